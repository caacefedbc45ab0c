"""The ITSM repository: incident, change and problem records and the audit log, over the
same database as the engine's store.

Write side (used by ``healops.itsm.recorder``): ``save_incident_record``, ``save_change``,
``save_problem``, ``append_audit``. Read side (for the API, the console and the CLI):
``list_incident_records``, ``get_incident_record``, ``list_changes``, ``get_change``,
``list_problems``, ``get_problem``, ``audit_entries``, ``verify_audit``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, fields
from typing import Any

from sqlalchemy import case, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from healops.itsm.audit import GENESIS, AuditEntry, AuditReport, seal, verify
from healops.itsm.changes import ChangeRecord
from healops.itsm.incidents import IncidentRecord, ItilState
from healops.itsm.problems import ProblemRecord
from healops.store.itsm_tables import (
    AuditHeadRow,
    AuditRow,
    ChangeRecordRow,
    IncidentRecordRow,
    ProblemRecordRow,
)
from healops.store.sqlalchemy import make_engine, migrate

__all__ = ["ItsmRepository"]


def _columns(rec: Any, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    return {k: v for k, v in asdict(rec).items() if k not in exclude}


def _incident(row: IncidentRecordRow) -> IncidentRecord:
    kw = {f.name: getattr(row, f.name) for f in fields(IncidentRecord)}
    kw["state"], kw["services"], kw["symptoms"] = ItilState(row.state), list(row.services), \
        list(row.symptoms)
    return IncidentRecord(**kw)


def _change(row: ChangeRecordRow) -> ChangeRecord:
    return ChangeRecord(**{f.name: getattr(row, f.name) for f in fields(ChangeRecord)})


def _problem(row: ProblemRecordRow) -> ProblemRecord:
    kw = {f.name: getattr(row, f.name) for f in fields(ProblemRecord)}
    kw["incident_ids"] = list(row.incident_ids)
    return ProblemRecord(**kw)


def _entry(row: AuditRow) -> AuditEntry:
    return AuditEntry(row.seq, row.ts, row.actor, row.kind, row.subject, row.body,
                      row.prev_hash, row.hash)


class ItsmRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def from_url(cls, url: str) -> ItsmRepository:
        """Open (and migrate) the database at a SQLAlchemy URL."""
        engine = make_engine(url)
        migrate(engine)
        return cls(engine)

    @contextmanager
    def _uow(self) -> Iterator[Session]:
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    # ---- write side ------------------------------------------------------------------
    def save_incident_record(self, rec: IncidentRecord) -> None:
        cols = _columns(rec)
        cols["state"] = str(rec.state)
        with self._uow() as s:
            s.merge(IncidentRecordRow(breached=rec.breached, **cols))

    def save_change(self, rec: ChangeRecord) -> None:
        with self._uow() as s:
            s.merge(ChangeRecordRow(**_columns(rec)))

    def save_problem(self, rec: ProblemRecord) -> None:
        with self._uow() as s:
            s.merge(ProblemRecordRow(**_columns(rec)))

    def append_audit(self, *, ts: float, actor: str, kind: str, subject: str,
                     data: Mapping[str, Any]) -> AuditEntry:
        """Append one entry to the hash chain, in one transaction with its head."""
        with self._uow() as s:
            head = s.get(AuditHeadRow, 1, with_for_update=True)
            if head is None:
                head = AuditHeadRow(id=1, seq=0, hash=GENESIS)
                s.add(head)
            e = seal(head.hash, head.seq + 1, ts=ts, actor=actor, kind=kind, subject=subject,
                     data=data)
            s.add(AuditRow(seq=e.seq, ts=e.ts, actor=e.actor, kind=e.kind, subject=e.subject,
                           body=e.body, prev_hash=e.prev_hash, hash=e.hash))
            head.seq, head.hash = e.seq, e.hash
        return e

    # ---- read side -------------------------------------------------------------------
    def list_incident_records(self, *, state: str | None = None, priority: str | None = None,
                              service: str | None = None, breached: bool | None = None,
                              open_only: bool = False, limit: int = 100,
                              offset: int = 0) -> list[IncidentRecord]:
        """The incident queue: open records first, then by priority (P1 first), then
        oldest first; filtered by ITIL state, priority, service (any affected) and breach."""
        q = select(IncidentRecordRow)
        if state is not None:
            q = q.where(IncidentRecordRow.state == state)
        if priority is not None:
            q = q.where(IncidentRecordRow.priority == priority)
        if breached is not None:
            q = q.where(IncidentRecordRow.breached.is_(breached))
        if open_only:
            q = q.where(IncidentRecordRow.state.not_in(["resolved", "closed"]))
        closed = case((IncidentRecordRow.state.in_(["resolved", "closed"]), 1), else_=0)
        q = q.order_by(closed, IncidentRecordRow.priority, IncidentRecordRow.opened_at,
                       IncidentRecordRow.id)
        with self._uow() as s:
            rows = [_incident(r) for r in s.scalars(q).all()]
        if service is not None:  # JSON membership is not portable SQL; the queue is small
            rows = [r for r in rows if service == r.service or service in r.services]
        return rows[offset:offset + limit]

    def get_incident_record(self, incident_id: str) -> IncidentRecord | None:
        with self._uow() as s:
            row = s.get(IncidentRecordRow, incident_id)
            return _incident(row) if row is not None else None

    def list_changes(self, *, incident_id: str | None = None, state: str | None = None,
                     kind: str | None = None, limit: int = 100,
                     offset: int = 0) -> list[ChangeRecord]:
        """Change records, newest request first; filtered by incident, state and kind."""
        q = select(ChangeRecordRow)
        if incident_id is not None:
            q = q.where(ChangeRecordRow.incident_id == incident_id)
        if state is not None:
            q = q.where(ChangeRecordRow.state == state)
        if kind is not None:
            q = q.where(ChangeRecordRow.kind == kind)
        q = q.order_by(ChangeRecordRow.requested_at.desc(), ChangeRecordRow.id.desc())
        with self._uow() as s:
            return [_change(r) for r in s.scalars(q.limit(limit).offset(offset)).all()]

    def get_change(self, change_id: str) -> ChangeRecord | None:
        with self._uow() as s:
            row = s.get(ChangeRecordRow, change_id)
            return _change(row) if row is not None else None

    def list_problems(self, *, state: str | None = None, limit: int = 100,
                      offset: int = 0) -> list[ProblemRecord]:
        """Problem records, newest first; ``state`` is open, known_error, resolved, closed."""
        q = select(ProblemRecordRow)
        if state is not None:
            q = q.where(ProblemRecordRow.state == state)
        q = q.order_by(ProblemRecordRow.opened_at.desc(), ProblemRecordRow.id)
        with self._uow() as s:
            return [_problem(r) for r in s.scalars(q.limit(limit).offset(offset)).all()]

    def get_problem(self, problem_id: str) -> ProblemRecord | None:
        with self._uow() as s:
            row = s.get(ProblemRecordRow, problem_id)
            return _problem(row) if row is not None else None

    def audit_entries(self, *, subject: str | None = None, kind: str | None = None,
                      after_seq: int = 0, limit: int | None = None) -> list[AuditEntry]:
        """Audit entries in chain order (oldest first), from ``after_seq`` on."""
        q = select(AuditRow).where(AuditRow.seq > after_seq)
        if subject is not None:
            q = q.where(AuditRow.subject == subject)
        if kind is not None:
            q = q.where(AuditRow.kind == kind)
        q = q.order_by(AuditRow.seq)
        if limit is not None:
            q = q.limit(limit)
        with self._uow() as s:
            return [_entry(r) for r in s.scalars(q).all()]

    def verify_audit(self) -> AuditReport:
        """Check the whole chain in storage order (by row position, not by trusting seq)."""
        with self._uow() as s:
            # ROWID order on SQLite is insertion order; elsewhere the primary key.
            rows = s.scalars(select(AuditRow).order_by(AuditRow.seq)).all()
            head = s.get(AuditHeadRow, 1)
            entries = [_entry(r) for r in rows]
            stored = (head.seq, head.hash) if head is not None else (0, GENESIS)
        return verify(entries, head=stored)
