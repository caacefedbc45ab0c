"""SQLAlchemy table models. Schema changes go through Alembic migrations in ``migrations/``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, Float, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = ["ActionRunRow", "Base", "DecisionRow", "IncidentRow", "OutcomeRow", "TimelineRow"]


class Base(DeclarativeBase):
    pass


class IncidentRow(Base):
    __tablename__ = "incidents"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    service: Mapped[str] = mapped_column(String(100), index=True)
    state: Mapped[str] = mapped_column(String(32), index=True)
    signature: Mapped[str] = mapped_column(String(200), default="")
    opened_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)
    resolved_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    escalated_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    services: Mapped[list[str]] = mapped_column(JSON, default=list)


class TimelineRow(Base):
    __tablename__ = "timeline"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(String(64), index=True)
    ts: Mapped[float] = mapped_column(Float)
    kind: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ActionRunRow(Base):
    __tablename__ = "action_runs"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    incident_id: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(200))
    intent_at: Mapped[float] = mapped_column(Float)
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    finished_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    ok: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    changed: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    retryable: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    message: Mapped[str] = mapped_column(Text, default="")


class DecisionRow(Base):
    __tablename__ = "decisions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(String(64), index=True)
    ts: Mapped[float] = mapped_column(Float)
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(200))
    verdict: Mapped[str] = mapped_column(String(16))
    rule: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)


class OutcomeRow(Base):
    __tablename__ = "outcomes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(String(64), index=True)
    signature: Mapped[str] = mapped_column(String(200), index=True)
    action: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    ts: Mapped[float] = mapped_column(Float)
    detail: Mapped[str] = mapped_column(Text, default="")
