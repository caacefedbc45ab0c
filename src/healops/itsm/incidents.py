"""Incident records with ITIL semantics, derived from the engine's incidents.

The engine's state machine says what automation is doing; the record says what a service
desk needs: an ITIL state (new, in progress, on hold, resolved, closed), a priority, an
assignment group and SLA timers. ``update_record`` is pure: it folds the engine's
incident into the record at ``now`` and says what happened (for the audit log).

>>> from healops.config.itsm import ItsmConfig
>>> from healops.domain.incidents import Incident, IncidentState
>>> from healops.domain.topology import Service, Topology
>>> topo = Topology.build([Service("api", tier=1, owner="payments-team")])
>>> inc = Incident.open("I1", key="api", service="api", now=0.0)
>>> rec, events = update_record(None, inc, ItsmConfig(), topo, now=0.0)
>>> str(rec.state), rec.priority, rec.assignment_group, events
('new', 'P3', 'payments-team', ['opened'])
>>> inc.transition(IncidentState.DIAGNOSING, now=20.0)
>>> rec, events = update_record(rec, inc, ItsmConfig(), topo, now=20.0)
>>> str(rec.state), rec.responded_at, events
('in_progress', 20.0, ['state:in_progress'])
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace

from healops.config.itsm import ItsmConfig
from healops.domain.incidents import Incident, IncidentState
from healops.domain.topology import Topology
from healops.itsm.priority import assess
from healops.itsm.sla import SlaStatus, evaluate

__all__ = ["IncidentRecord", "ItilState", "itil_state", "tick_record", "update_record"]


class ItilState(enum.StrEnum):
    NEW = "new"
    IN_PROGRESS = "in_progress"
    ON_HOLD = "on_hold"
    RESOLVED = "resolved"
    CLOSED = "closed"


_MAP = {
    IncidentState.OPEN: ItilState.NEW,
    IncidentState.DIAGNOSING: ItilState.IN_PROGRESS,
    IncidentState.ACTING: ItilState.IN_PROGRESS,
    IncidentState.VERIFYING: ItilState.IN_PROGRESS,
    IncidentState.ESCALATED: ItilState.IN_PROGRESS,
    IncidentState.AWAITING_APPROVAL: ItilState.ON_HOLD,  # waiting on an approver
    IncidentState.SUPPRESSED: ItilState.ON_HOLD,  # flapping: held until it settles
    IncidentState.RESOLVED: ItilState.RESOLVED,
}


def itil_state(state: IncidentState) -> ItilState:
    return _MAP[state]


@dataclass
class IncidentRecord:
    """The service-desk view of one incident (same id as the engine's incident)."""

    id: str
    title: str
    service: str
    services: list[str]
    state: ItilState
    engine_state: str
    priority: str
    impact: int
    urgency: int
    assignment_group: str
    opened_at: float
    updated_at: float
    response_due_at: float
    resolution_due_at: float
    signature: str = ""
    symptoms: list[str] = field(default_factory=list)
    responded_at: float | None = None
    resolved_at: float | None = None
    closed_at: float | None = None
    response_breached_at: float | None = None
    resolution_breached_at: float | None = None
    escalated: bool = False
    resolution: str = ""
    problem_id: str = ""

    @property
    def breached(self) -> bool:
        return self.response_breached_at is not None or self.resolution_breached_at is not None

    @property
    def open(self) -> bool:
        return self.state not in (ItilState.RESOLVED, ItilState.CLOSED)


def assignment_group(cfg: ItsmConfig, topology: Topology, service: str) -> str:
    if service in cfg.assignment_groups:
        return cfg.assignment_groups[service]
    svc = topology.services.get(service)
    return svc.owner if svc is not None and svc.owner else cfg.default_group


def _apply_sla(rec: IncidentRecord, cfg: ItsmConfig, now: float) -> list[str]:
    status: SlaStatus = evaluate(cfg.sla.targets[rec.priority], opened_at=rec.opened_at,  # type: ignore[index]
                                 responded_at=rec.responded_at, resolved_at=rec.resolved_at,
                                 now=now)
    events = []
    rec.response_due_at, rec.resolution_due_at = status.response_due_at, status.resolution_due_at
    if status.response_breached_at is not None and rec.response_breached_at is None:
        rec.response_breached_at = status.response_breached_at
        events.append("breach:response")
    if status.resolution_breached_at is not None and rec.resolution_breached_at is None:
        rec.resolution_breached_at = status.resolution_breached_at
        events.append("breach:resolution")
    return events


def update_record(prev: IncidentRecord | None, inc: Incident, cfg: ItsmConfig,
                  topology: Topology, *, now: float) -> tuple[IncidentRecord, list[str]]:
    """Fold the engine's incident into its record; returns the record and its events
    (``opened``, ``state:<s>``, ``priority:<p>``, ``breach:response|resolution``)."""
    svc = topology.services.get(inc.service)
    symptoms = sorted({a.kind for a in inc.anomalies.values()})
    a = assess(cfg.priority, tier=svc.tier if svc else 2, services=len(inc.services),
               symptoms=symptoms, service=inc.service)
    state = itil_state(inc.state)
    events: list[str] = []
    if prev is None:
        rec = IncidentRecord(
            inc.id, f"{inc.service}: {inc.key}", inc.service, sorted(inc.services), state,
            str(inc.state), a.priority, a.impact, a.urgency,
            assignment_group(cfg, topology, inc.service), inc.opened_at, now, 0.0, 0.0)
        events.append("opened")
        prev_state = ItilState.NEW
    else:
        rec = replace(prev)
        prev_state = prev.state
        if prev.state is ItilState.CLOSED:
            return rec, events
        if a.priority < prev.priority:  # only upwards: a record is not quietly downgraded
            rec.priority, rec.impact, rec.urgency = a.priority, a.impact, a.urgency
            events.append(f"priority:{a.priority}")
        rec.state = state
    rec.services, rec.symptoms, rec.engine_state = sorted(inc.services), symptoms, str(inc.state)
    rec.signature, rec.updated_at = inc.signature, now
    if state is not prev_state:
        events.append(f"state:{state}")
    if state is not ItilState.NEW and rec.responded_at is None:
        rec.responded_at = now
    if inc.state is IncidentState.ESCALATED or inc.escalated_at is not None:
        rec.escalated = True
    if state is ItilState.RESOLVED and rec.resolved_at is None:
        rec.resolved_at = inc.resolved_at if inc.resolved_at is not None else now
        rec.resolution = next((e.message for e in reversed(inc.timeline)
                               if e.kind == "state" and e.data.get("to") == "resolved"), "")
    events += _apply_sla(rec, cfg, now)
    return rec, events


def tick_record(rec: IncidentRecord, cfg: ItsmConfig, *, now: float,
                responded: bool = False) -> list[str]:
    """Advance a record's clocks to ``now``: breaches, closing resolved records, and a
    human acknowledgement counted as the response. Mutates ``rec``; returns its events."""
    if rec.state is ItilState.CLOSED:
        return []
    events: list[str] = []
    if responded and rec.responded_at is None:
        rec.responded_at = now
        events.append("responded")
    events += _apply_sla(rec, cfg, now)
    if (rec.state is ItilState.RESOLVED and rec.resolved_at is not None
            and now >= rec.resolved_at + cfg.sla.close_after_s):
        rec.state, rec.closed_at = ItilState.CLOSED, now
        events.append("state:closed")
    if events:
        rec.updated_at = now
    return events
