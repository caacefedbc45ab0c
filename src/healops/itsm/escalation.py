"""An escalation carries the whole story, so the person paged starts where healops stopped."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from healops.domain.diagnosis import Diagnosis
from healops.domain.incidents import Incident, TimelineEntry
from healops.domain.plans import Plan

__all__ = ["Escalation", "Pager", "build_escalation"]


@dataclass(frozen=True)
class Escalation:
    incident_id: str
    kind: Literal["escalation", "approval"]
    reason: str
    service: str
    timeline: tuple[TimelineEntry, ...]
    evidence: tuple[str, ...]
    hypotheses: tuple[str, ...]
    tried: tuple[str, ...]
    similar: tuple[str, ...]
    suggested: tuple[str, ...]
    # What the page is about: for an approval, the services its steps touch; for an
    # escalation, every service of the incident.
    services: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        """Has everything a responder needs: timeline, evidence, hypotheses, next actions."""
        return bool(self.timeline and self.evidence and self.hypotheses and self.suggested)


class Pager(Protocol):
    def page(self, escalation: Escalation) -> None: ...


def build_escalation(
    incident: Incident,
    diagnosis: Diagnosis | None,
    plans: Sequence[Plan],
    tried: Sequence[str],
    *,
    kind: Literal["escalation", "approval"],
    reason: str,
) -> Escalation:
    hyps: list[str] = []
    evidence: list[str] = []
    suggested: list[str] = []
    if diagnosis is not None:
        for h in diagnosis.hypotheses[:5]:
            hyps.append(f"{h.fault} on {h.target or h.component} ({h.confidence:.0%})"
                        + (f", runbook {h.runbook}" if h.runbook else ", no runbook"))
            evidence.extend(e.summary for e in h.evidence[:6])
    for p in plans:
        suggested.extend(f"{s.action} {s.target} (runbook {p.runbook})" for s in p.steps)
    if not suggested:
        suggested.append(
            f"investigate {incident.service}: no runbook covers "
            + (f"{diagnosis.top.fault}" if diagnosis and diagnosis.top else "these symptoms")
            + "; check the evidence and recent changes, then write a runbook for it"
        )
    if not evidence:
        evidence.extend(f"{a.kind}: {k} = {a.value:.4g} (baseline {a.baseline:.4g})"
                        for k, a in list(incident.anomalies.items())[:8])
    return Escalation(
        incident.id, kind, reason, incident.service, tuple(incident.timeline),
        tuple(dict.fromkeys(evidence)), tuple(hyps) or ("no hypothesis",), tuple(tried),
        diagnosis.similar if diagnosis else (), tuple(dict.fromkeys(suggested)),
        tuple(dict.fromkeys(s.service for p in plans for s in p.steps))
        if kind == "approval" else tuple(sorted(incident.services)),
    )
