"""Incidents: a durable state machine with an append-only timeline.

>>> inc = Incident.open("inc-1", key="api", service="api", now=10.0)
>>> inc.transition(IncidentState.DIAGNOSING, now=11.0, note="3 anomalies")
>>> inc.state, [e.kind for e in inc.timeline]
(<IncidentState.DIAGNOSING: 'diagnosing'>, ['opened', 'state'])
>>> inc.transition(IncidentState.OPEN, now=12.0)
Traceback (most recent call last):
...
ValueError: incident inc-1 cannot go from diagnosing to open
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from healops.domain.signals import Anomaly

__all__ = ["Incident", "IncidentState", "TimelineEntry"]


class IncidentState(enum.StrEnum):
    OPEN = "open"
    DIAGNOSING = "diagnosing"
    AWAITING_APPROVAL = "awaiting_approval"
    ACTING = "acting"
    VERIFYING = "verifying"
    ESCALATED = "escalated"
    RESOLVED = "resolved"
    SUPPRESSED = "suppressed"


_ACTIVE = {
    IncidentState.OPEN,
    IncidentState.DIAGNOSING,
    IncidentState.AWAITING_APPROVAL,
    IncidentState.ACTING,
    IncidentState.VERIFYING,
}

_ALLOWED: dict[IncidentState, set[IncidentState]] = {
    IncidentState.OPEN: {
        IncidentState.DIAGNOSING,
        IncidentState.SUPPRESSED,
        IncidentState.RESOLVED,
        IncidentState.ESCALATED,
    },
    IncidentState.DIAGNOSING: {
        IncidentState.ACTING,
        IncidentState.AWAITING_APPROVAL,
        IncidentState.ESCALATED,
        IncidentState.RESOLVED,
        IncidentState.SUPPRESSED,
        IncidentState.DIAGNOSING,
    },
    IncidentState.AWAITING_APPROVAL: {
        IncidentState.ACTING,
        IncidentState.ESCALATED,
        IncidentState.RESOLVED,
    },
    IncidentState.ACTING: {IncidentState.VERIFYING, IncidentState.ESCALATED},
    IncidentState.VERIFYING: {
        IncidentState.RESOLVED,
        IncidentState.ACTING,
        IncidentState.ESCALATED,
        IncidentState.DIAGNOSING,
        IncidentState.AWAITING_APPROVAL,
    },
    IncidentState.ESCALATED: {IncidentState.RESOLVED, IncidentState.ACTING},
    IncidentState.SUPPRESSED: {IncidentState.RESOLVED, IncidentState.DIAGNOSING},
    IncidentState.RESOLVED: set(),
}


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    ts: float
    kind: str
    message: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Incident:
    """One real problem. Anomalies attach to it; every change of state is a timeline entry."""

    id: str
    key: str
    service: str
    state: IncidentState
    opened_at: float
    updated_at: float
    services: set[str] = field(default_factory=set)
    anomalies: dict[str, Anomaly] = field(default_factory=dict)
    timeline: list[TimelineEntry] = field(default_factory=list)
    signature: str = ""
    resolved_at: float | None = None
    escalated_at: float | None = None
    last_anomaly_at: float = 0.0
    flapping: bool = False
    live: set[str] = field(default_factory=set)

    @classmethod
    def open(cls, id: str, *, key: str, service: str, now: float) -> Incident:
        inc = cls(id, key, service, IncidentState.OPEN, now, now, services={service})
        inc.note(now, "opened", f"incident opened on {service}")
        return inc

    @property
    def active(self) -> bool:
        return self.state in _ACTIVE

    def note(self, now: float, kind: str, message: str, **data: Any) -> TimelineEntry:
        entry = TimelineEntry(now, kind, message, dict(data))
        self.timeline.append(entry)
        self.updated_at = now
        return entry

    def transition(self, to: IncidentState, *, now: float, note: str = "") -> None:
        if to not in _ALLOWED[self.state]:
            raise ValueError(f"incident {self.id} cannot go from {self.state} to {to}")
        frm = self.state
        self.state = to
        if to is IncidentState.RESOLVED:
            self.resolved_at = now
        if to is IncidentState.ESCALATED and self.escalated_at is None:
            self.escalated_at = now
        self.note(now, "state", note or f"{frm} -> {to}", frm=str(frm), to=str(to))

    def attach(self, anomaly: Anomaly) -> bool:
        """Attach or refresh an anomaly; True when it is new to this incident."""
        sid = anomaly.id
        is_new = sid not in self.anomalies
        self.anomalies[sid] = anomaly
        if anomaly.service:
            self.services.add(anomaly.service)
        self.last_anomaly_at = max(self.last_anomaly_at, anomaly.ts)
        return is_new
