"""The SQLAlchemy store: one short transaction per engine step (the unit of work).

``sqlite://`` is an in-memory database shared by every session of this store (tests, the
simulator); ``sqlite:///path.db`` a file; ``postgresql+psycopg://…`` PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import create_engine, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from healops.domain.actions import ActionResult, ActionRun, Outcome, OutcomeStatus
from healops.domain.incidents import Incident, TimelineEntry
from healops.domain.plans import Decision
from healops.store.tables import (
    ActionRunRow,
    CheckpointRow,
    DecisionRow,
    EngineStateRow,
    IncidentRow,
    OutcomeRow,
    TimelineRow,
)

__all__ = ["SqlAlchemyStore", "make_engine"]


def make_engine(url: str) -> Engine:
    if url in {"sqlite://", "sqlite:///:memory:"}:
        return create_engine("sqlite://", poolclass=StaticPool,
                             connect_args={"check_same_thread": False})
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return create_engine(url)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(resources.files("healops.store") / "migrations"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


class SqlAlchemyStore:
    def __init__(self, url: str = "sqlite://", *, engine: Engine | None = None) -> None:
        self.engine = engine or make_engine(url)
        migrate(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def save_incident(self, incident: Incident, new_entries: Sequence[TimelineEntry]) -> None:
        with self.unit_of_work() as s:
            s.merge(IncidentRow(
                id=incident.id, key=incident.key, service=incident.service,
                state=str(incident.state), signature=incident.signature,
                opened_at=incident.opened_at, updated_at=incident.updated_at,
                resolved_at=incident.resolved_at, escalated_at=incident.escalated_at,
                services=sorted(incident.services),
            ))
            s.add_all(TimelineRow(incident_id=incident.id, ts=e.ts, kind=e.kind,
                                  message=e.message, data=e.data) for e in new_entries)

    def record_intent(self, run: ActionRun) -> bool:
        try:
            with self.unit_of_work() as s:
                s.add(ActionRunRow(key=run.key, incident_id=run.incident_id, action=run.action,
                                   target=run.target, intent_at=run.intent_at,
                                   dry_run=run.dry_run, params=dict(run.params),
                                   timeout_s=run.timeout_s))
        except IntegrityError:
            return False
        return True

    def record_result(self, key: str, result: ActionResult, finished_at: float) -> None:
        with self.unit_of_work() as s:
            row = s.get(ActionRunRow, key)
            if row is None:
                raise KeyError(f"no intent journalled under {key!r}")
            row.ok, row.changed, row.retryable = result.ok, result.changed, result.retryable
            row.message, row.finished_at = result.message, finished_at

    def record_decision(self, incident_id: str, action: str, target: str, decision: Decision,
                        ts: float) -> None:
        with self.unit_of_work() as s:
            s.add(DecisionRow(incident_id=incident_id, ts=ts, action=action, target=target,
                              verdict=str(decision.verdict), rule=decision.rule,
                              reason=decision.reason))

    def record_outcome(self, outcome: Outcome) -> None:
        with self.unit_of_work() as s:
            s.add(OutcomeRow(incident_id=outcome.incident_id, signature=outcome.signature,
                             action=outcome.action, status=str(outcome.status), ts=outcome.ts,
                             detail=outcome.detail))

    @staticmethod
    def _run(row: ActionRunRow) -> ActionRun:
        result = None
        if row.finished_at is not None:
            result = ActionResult(bool(row.ok), row.message, bool(row.retryable),
                                  bool(row.changed))
        return ActionRun(row.key, row.incident_id, row.action, row.target, row.intent_at,
                         result, row.finished_at, row.dry_run, dict(row.params or {}),
                         60.0 if row.timeout_s is None else row.timeout_s)

    def unfinished_intents(self) -> list[ActionRun]:
        with self.unit_of_work() as s:
            rows = s.scalars(select(ActionRunRow).where(ActionRunRow.finished_at.is_(None))
                             .order_by(ActionRunRow.intent_at)).all()
            return [self._run(r) for r in rows]

    def get_run(self, key: str) -> ActionRun | None:
        with self.unit_of_work() as s:
            row = s.get(ActionRunRow, key)
            return self._run(row) if row else None

    def recent_runs(self, since: float) -> list[ActionRun]:
        with self.unit_of_work() as s:
            rows = s.scalars(select(ActionRunRow).where(ActionRunRow.intent_at >= since)
                             .order_by(ActionRunRow.intent_at)).all()
            return [self._run(r) for r in rows]

    def outcomes(self) -> list[Outcome]:
        with self.unit_of_work() as s:
            rows = s.scalars(select(OutcomeRow).order_by(OutcomeRow.id)).all()
            return [Outcome(r.incident_id, r.signature, r.action, OutcomeStatus(r.status), r.ts,
                            r.detail) for r in rows]

    def save_checkpoint(self, incident_id: str, data: str | None, ts: float) -> None:
        """Keep (or, with ``None``, drop) the engine's working state of an incident."""
        with self.unit_of_work() as s:
            row = s.get(CheckpointRow, incident_id)
            if data is None:
                if row is not None:
                    s.delete(row)
            elif row is None:
                s.add(CheckpointRow(incident_id=incident_id, data=data, updated_at=ts))
            else:
                row.data, row.updated_at = data, ts

    def save_state(self, name: str, data: bytes, ts: float) -> None:
        with self.unit_of_work() as s:
            s.merge(EngineStateRow(name=name, data=data, updated_at=ts))

    def load_state(self, name: str) -> bytes | None:
        with self.unit_of_work() as s:
            row = s.get(EngineStateRow, name)
            return None if row is None else bytes(row.data)

    def checkpoints(self) -> list[str]:
        with self.unit_of_work() as s:
            return list(s.scalars(select(CheckpointRow.data)
                                  .order_by(CheckpointRow.incident_id)).all())

    def timeline(self, incident_id: str) -> list[TimelineEntry]:
        with self.unit_of_work() as s:
            rows = s.scalars(select(TimelineRow).where(TimelineRow.incident_id == incident_id)
                             .order_by(TimelineRow.id)).all()
            return [TimelineEntry(r.ts, r.kind, r.message, dict(r.data)) for r in rows]

    def incident_states(self) -> dict[str, str]:
        with self.unit_of_work() as s:
            return {r.id: r.state for r in s.scalars(select(IncidentRow)).all()}

    def decisions(self, incident_id: str) -> list[tuple[str, str, str, str]]:
        with self.unit_of_work() as s:
            rows = s.scalars(select(DecisionRow).where(DecisionRow.incident_id == incident_id)
                             .order_by(DecisionRow.id)).all()
            return [(r.action, r.target, r.verdict, r.reason) for r in rows]
