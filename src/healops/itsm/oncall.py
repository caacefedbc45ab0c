"""On-call: who is on call now, which escalation policy covers a service, and the pager
that notifies tier 1 and climbs the tiers while nobody acknowledges.

>>> from healops.config.itsm import OnCallSchedule
>>> s = OnCallSchedule(name="primary", rotation=["ana", "bo"], shift_s=100, start=0)
>>> on_call(s, now=50), on_call(s, now=150), on_call(s, now=250)
('ana', 'bo', 'ana')
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from healops.clock import Clock
from healops.config.itsm import EscalationPolicy, EscalationTier, ItsmConfig, OnCallSchedule
from healops.domain.topology import Topology
from healops.itsm.escalation import Escalation
from healops.itsm.notify.base import Notification
from healops.itsm.notify.gate import Router

__all__ = ["OnCallPager", "Page", "on_call", "policy_for", "tier_people"]

_SEVERITY = {"P1": "critical", "P2": "critical", "P3": "error", "P4": "warning", "P5": "info"}

Audit = Callable[..., None]


def on_call(schedule: OnCallSchedule, *, now: float) -> str:
    shift = int((now - schedule.start) // schedule.shift_s)
    return schedule.rotation[shift % len(schedule.rotation)]


def tier_people(tier: EscalationTier, schedules: dict[str, OnCallSchedule], *,
                now: float) -> list[str]:
    """The people a tier reaches now: schedule names resolve to who is on call."""
    return list(dict.fromkeys(on_call(schedules[n], now=now) if n in schedules else n
                              for n in tier.notify))


def policy_for(cfg: ItsmConfig, service: str, topology: Topology) -> EscalationPolicy | None:
    """The policy naming the service, else its owner's team's, else the default."""
    pols = cfg.oncall.policies
    owner = topology.services[service].owner if service in topology else ""
    return (next((p for p in pols if service in p.services), None)
            or next((p for p in pols if owner and p.team == owner), None)
            or next((p for p in pols if p.name == cfg.oncall.default_policy), None))


@dataclass
class Page:
    id: str
    incident_id: str
    kind: str
    service: str
    policy: str
    opened_at: float
    deadline: float | None  # when the current tier times out; None when nothing is next
    tier: int = 0
    round: int = 0
    people: list[str] = field(default_factory=list)
    acked_by: str = ""
    acked_at: float | None = None
    resolved_at: float | None = None
    escalation: Escalation | None = None
    history: list[str] = field(default_factory=list)

    @property
    def dedup_key(self) -> str:
        return f"healops:{self.incident_id}:{self.kind}"

    @property
    def open(self) -> bool:
        return self.resolved_at is None


class OnCallPager:
    """A ``Pager``: notifies a policy's first tier; ``tick(now)`` escalates pages nobody
    acknowledged within their tier's timeout; ``ack`` stops that, ``resolve`` closes."""

    def __init__(self, config: ItsmConfig, *, clock: Clock, router: Router,
                 topology: Topology, priority_of: Callable[[str], str] = lambda i: "",
                 on_ack: Callable[[str, str, float], None] = lambda i, by, t: None,
                 audit: Audit | None = None) -> None:
        self.config, self.clock, self.router, self.topology = config, clock, router, topology
        self.priority_of, self.on_ack, self._audit = priority_of, on_ack, audit
        self.schedules = {s.name: s for s in config.oncall.schedules}
        self.pages: dict[str, Page] = {}

    # ---- the Pager port ---------------------------------------------------------------
    def page(self, escalation: Escalation) -> None:
        now = self.clock.now()
        pid = f"PG-{escalation.incident_id}-{escalation.kind}"
        existing = self.pages.get(pid)
        if existing is not None and existing.open:
            existing.escalation = escalation  # same page, newer story: no second page
            existing.history.append(f"{now:.0f}: updated ({escalation.reason})")
            return
        pol = policy_for(self.config, escalation.service, self.topology)
        p = Page(pid, escalation.incident_id, escalation.kind, escalation.service,
                 pol.name if pol else "", now, None, escalation=escalation)
        self.pages[pid] = p
        self._notify_tier(p, now, "paged")

    # ---- humans and time --------------------------------------------------------------
    def ack(self, page_id: str, *, by: str, now: float) -> bool:
        p = self.pages.get(page_id)
        if p is None or not p.open or p.acked_at is not None:
            return False
        p.acked_by, p.acked_at, p.deadline = by, now, None
        p.history.append(f"{now:.0f}: acknowledged by {by}")
        self._send(p, "acknowledge", now, [], f"acknowledged by {by}")
        self._record(now, by, "page:ack", p, {})
        self.on_ack(p.incident_id, by, now)
        return True

    def resolve(self, incident_id: str, *, now: float) -> None:
        for p in self.pages.values():
            if p.incident_id == incident_id and p.open:
                p.resolved_at, p.deadline = now, None
                p.history.append(f"{now:.0f}: resolved")
                self._send(p, "resolve", now, [], "resolved")

    def tick(self, now: float) -> list[Page]:
        """Escalate every page whose tier timed out unacknowledged, and retry failed
        deliveries that are due; returns the escalated pages."""
        self.router.flush(now)
        moved = []
        for p in self.pages.values():
            if p.open and p.acked_at is None and p.deadline is not None and now >= p.deadline:
                pol = self._policy(p)
                if pol is None:
                    continue
                if p.tier + 1 < len(pol.tiers):
                    p.tier += 1
                elif p.round < pol.repeat:
                    p.tier, p.round = 0, p.round + 1
                else:
                    p.deadline = None
                    p.history.append(f"{now:.0f}: last tier timed out; nobody left to page")
                    self._record(now, "healops", "page:exhausted", p, {})
                    continue
                self._notify_tier(p, now, "escalated")
                moved.append(p)
        return moved

    def on_itsm_event(self, event: object) -> None:
        """Listener for ``RecordingStore``: a resolved incident resolves its pages."""
        kind, subject, ts, message = (getattr(event, a, None)
                                      for a in ("kind", "subject", "ts", "message"))
        if not (isinstance(kind, str) and isinstance(subject, str) and isinstance(ts, float)):
            return
        if kind == "incident:resolved":
            self.resolve(subject, now=ts)
        elif kind.startswith("breach:") and self.config.notifications.breach_channels:
            prio = self.priority_of(subject)
            n = Notification(f"healops:{subject}:{kind}", "trigger", str(message), subject,
                             "", ts, severity="warning", priority=prio,
                             details={"kind": kind})
            self.router.send(n, self.config.notifications.breach_channels, now=ts)

    # ---- internals --------------------------------------------------------------------
    def _policy(self, p: Page) -> EscalationPolicy | None:
        return next((x for x in self.config.oncall.policies if x.name == p.policy), None)

    def _notify_tier(self, p: Page, now: float, what: str) -> None:
        pol = self._policy(p)
        channels: list[str] = []
        if pol is not None:
            tier = pol.tiers[p.tier]
            p.people = tier_people(tier, self.schedules, now=now)
            p.deadline = now + tier.ack_timeout_s
            channels = list(tier.channels)
        p.history.append(f"{now:.0f}: {what} tier {p.tier + 1} ({', '.join(p.people) or '-'})")
        self._send(p, "trigger", now, channels, "")
        self._record(now, "healops", f"page:{what}", p,
                     {"tier": p.tier + 1, "people": list(p.people), "channels": channels})

    def _send(self, p: Page, action: str, now: float, channels: list[str], note: str) -> None:
        esc = p.escalation
        prio = self.priority_of(p.incident_id)
        contacts = self.config.oncall.contacts
        emails = tuple(contacts[x].email for x in p.people if x in contacts and contacts[x].email)
        base = self.config.notifications.console_url.rstrip("/")
        link = f"{base}/incidents/{p.incident_id}" if base else ""
        title = (f"{p.incident_id} on {p.service}: " + (esc.reason if esc else "")
                 if action == "trigger" else f"{p.incident_id} on {p.service}: {note}")
        if p.kind == "approval" and action == "trigger":
            title = "approval needed: " + title
        lines: list[str] = []
        if esc is not None and action == "trigger":
            lines += [f"tier {p.tier + 1} of policy {p.policy or '-'}; on call: "
                      + (", ".join(p.people) or "-")]
            lines += [f"hypothesis: {h}" for h in esc.hypotheses[:5]]
            lines += [f"evidence: {e}" for e in esc.evidence[:8]]
            lines += [f"tried: {t}" for t in esc.tried] or ["tried: nothing yet"]
            lines += [f"similar: {s}" for s in esc.similar[:3]]
            lines += [f"suggested: {s}" for s in esc.suggested[:5]]
            lines += [f"timeline: {e.kind} {e.message}" for e in esc.timeline[-8:]]
            if p.kind == "approval" and link:
                lines.append(f"approve or reject: {link}")
        n = Notification(p.dedup_key, action, title, p.incident_id, p.service, now,  # type: ignore[arg-type]
                         severity=_SEVERITY.get(prio, "error"),  # type: ignore[arg-type]
                         priority=prio, lines=tuple(lines), recipients=emails, link=link,
                         details={"kind": p.kind, "tier": p.tier + 1, "page": p.id},
                         level=p.round * 100 + p.tier)
        self.router.send(n, channels, now=now)

    def _record(self, now: float, actor: str, kind: str, p: Page, data: dict[str, object]
                ) -> None:
        if self._audit is not None:
            self._audit(ts=now, actor=actor, kind=kind, subject=p.incident_id,
                        data={"page": p.id, **data})
