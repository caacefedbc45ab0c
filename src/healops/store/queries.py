"""Read-side queries over the store, for the API, the console and the CLI. No writes here.

>>> from healops.store.sqlalchemy import SqlAlchemyStore
>>> from healops.domain.incidents import Incident
>>> store = SqlAlchemyStore("sqlite://")
>>> inc = Incident.open("inc-1", key="api", service="api", now=10.0)
>>> store.save_incident(inc, inc.timeline)
>>> q = IncidentQueries(store.engine)
>>> [r.id for r in q.incidents(state="open")], q.incidents(service="db")
(['inc-1'], [])
>>> [e.kind for e in q.timeline("inc-1")], q.incident("nope")
(['opened'], None)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from healops.store.tables import ActionRunRow, DecisionRow, IncidentRow, OutcomeRow, TimelineRow

__all__ = [
    "ActionRecord",
    "DecisionRecord",
    "IncidentQueries",
    "IncidentRecord",
    "RunbookRecord",
    "TimelineRecord",
]


@dataclass(frozen=True, slots=True)
class IncidentRecord:
    id: str
    key: str
    service: str
    state: str
    signature: str
    opened_at: float
    updated_at: float
    resolved_at: float | None
    escalated_at: float | None
    services: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TimelineRecord:
    ts: float
    kind: str
    message: str
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    ts: float
    action: str
    target: str
    verdict: str
    rule: str
    reason: str


@dataclass(frozen=True, slots=True)
class ActionRecord:
    key: str
    action: str
    target: str
    intent_at: float
    finished_at: float | None
    ok: bool | None
    message: str
    dry_run: bool


@dataclass(frozen=True, slots=True)
class RunbookRecord:
    """How actions of a runbook's signature went: the track record."""

    signature: str
    action: str
    successes: int
    failures: int


def _incident(r: IncidentRow) -> IncidentRecord:
    return IncidentRecord(r.id, r.key, r.service, r.state, r.signature, r.opened_at,
                          r.updated_at, r.resolved_at, r.escalated_at, tuple(r.services or ()))


class IncidentQueries:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def incidents(self, *, state: str | None = None, service: str | None = None,
                  limit: int = 500, offset: int = 0) -> list[IncidentRecord]:
        q = select(IncidentRow)
        if state:
            q = q.where(IncidentRow.state == state)
        if service:
            q = q.where(IncidentRow.service == service)
        q = q.order_by(IncidentRow.opened_at.desc(), IncidentRow.id).limit(limit).offset(offset)
        with Session(self.engine) as s:
            return [_incident(r) for r in s.scalars(q)]

    def incident(self, incident_id: str) -> IncidentRecord | None:
        with Session(self.engine) as s:
            row = s.get(IncidentRow, incident_id)
            return _incident(row) if row else None

    def timeline(self, incident_id: str) -> list[TimelineRecord]:
        q = (select(TimelineRow).where(TimelineRow.incident_id == incident_id)
             .order_by(TimelineRow.id))
        with Session(self.engine) as s:
            return [TimelineRecord(r.ts, r.kind, r.message, dict(r.data or {}))
                    for r in s.scalars(q)]

    def decisions(self, incident_id: str) -> list[DecisionRecord]:
        q = (select(DecisionRow).where(DecisionRow.incident_id == incident_id)
             .order_by(DecisionRow.id))
        with Session(self.engine) as s:
            return [DecisionRecord(r.ts, r.action, r.target, r.verdict, r.rule, r.reason)
                    for r in s.scalars(q)]

    def actions(self, incident_id: str) -> list[ActionRecord]:
        q = (select(ActionRunRow).where(ActionRunRow.incident_id == incident_id)
             .order_by(ActionRunRow.intent_at))
        with Session(self.engine) as s:
            return [ActionRecord(r.key, r.action, r.target, r.intent_at, r.finished_at, r.ok,
                                 r.message, r.dry_run) for r in s.scalars(q)]

    def track_record(self) -> list[RunbookRecord]:
        """Verified outcomes per (signature, action), most used first."""
        ok = func.sum(case((OutcomeRow.status == "success", 1), else_=0))
        q = (select(OutcomeRow.signature, OutcomeRow.action, ok, func.count())
             .group_by(OutcomeRow.signature, OutcomeRow.action)
             .order_by(func.count().desc(), OutcomeRow.signature))
        with Session(self.engine) as s:
            return [RunbookRecord(sig, action, int(n_ok or 0), int(n) - int(n_ok or 0))
                    for sig, action, n_ok, n in s.execute(q)]

    def state_counts(self) -> dict[str, int]:
        q = select(IncidentRow.state, func.count()).group_by(IncidentRow.state)
        with Session(self.engine) as s:
            return {state: int(n) for state, n in s.execute(q)}
