"""ITSM tables: incident, change and problem records, and the hash-chained audit log.

They live on the same metadata as ``tables.py`` (one schema, one Alembic history); their
migration is ``0002_itsm``.
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from healops.store.tables import Base

__all__ = ["AuditHeadRow", "AuditRow", "ChangeRecordRow", "IncidentRecordRow", "ProblemRecordRow"]


class IncidentRecordRow(Base):
    __tablename__ = "itsm_incidents"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    service: Mapped[str] = mapped_column(String(100), index=True)
    services: Mapped[list[str]] = mapped_column(JSON, default=list)
    state: Mapped[str] = mapped_column(String(16), index=True)
    engine_state: Mapped[str] = mapped_column(String(32))
    priority: Mapped[str] = mapped_column(String(2), index=True)
    impact: Mapped[int] = mapped_column(Integer)
    urgency: Mapped[int] = mapped_column(Integer)
    assignment_group: Mapped[str] = mapped_column(String(100))
    signature: Mapped[str] = mapped_column(String(200), default="")
    symptoms: Mapped[list[str]] = mapped_column(JSON, default=list)
    opened_at: Mapped[float] = mapped_column(Float, index=True)
    updated_at: Mapped[float] = mapped_column(Float)
    responded_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    resolved_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    closed_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    response_due_at: Mapped[float] = mapped_column(Float)
    resolution_due_at: Mapped[float] = mapped_column(Float)
    response_breached_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    resolution_breached_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    breached: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    resolution: Mapped[str] = mapped_column(Text, default="")
    problem_id: Mapped[str] = mapped_column(String(64), default="")


class ChangeRecordRow(Base):
    __tablename__ = "itsm_changes"
    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    incident_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(24), index=True)
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(200))
    runbook: Mapped[str] = mapped_column(String(64), default="")
    risk: Mapped[str] = mapped_column(String(16), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    rule: Mapped[str] = mapped_column(String(64), default="")
    requested_at: Mapped[float] = mapped_column(Float, index=True)
    approved_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    approved_by: Mapped[str] = mapped_column(String(100), default="")
    action_key: Mapped[str] = mapped_column(String(200), default="", index=True)
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    finished_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    result: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str] = mapped_column(String(16), default="")
    closed_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    backout_of: Mapped[str] = mapped_column(String(120), default="")


class ProblemRecordRow(Base):
    __tablename__ = "itsm_problems"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    signature: Mapped[str] = mapped_column(String(200), index=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    title: Mapped[str] = mapped_column(Text)
    opened_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)
    incident_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    known_error: Mapped[str] = mapped_column(Text, default="")
    workaround: Mapped[str] = mapped_column(Text, default="")


class AuditRow(Base):
    """One audit entry. ``body`` is the canonical JSON that ``hash`` covers, chained by
    ``prev_hash``; the other columns repeat fields of the body for querying."""

    __tablename__ = "audit_log"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    ts: Mapped[float] = mapped_column(Float, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(32), index=True)
    subject: Mapped[str] = mapped_column(String(200), index=True)
    body: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHeadRow(Base):
    """The chain's head (one row): catches a truncated tail, and serialises appends."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
