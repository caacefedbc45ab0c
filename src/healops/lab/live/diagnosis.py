"""A diagnoser wrapper for trailing symptoms: a caller's errors that fire just after its
callee was fixed are still the callee's, not a new cause.

In a real estate each service's error ratio is measured over its own window, so a caller
crosses its threshold a few seconds after the callee, sometimes after the callee already
recovered. ``SymptomDiagnoser`` explains a caller's symptom only by a callee symptom that
is still live, so such a trailing symptom became a cause of its own with no runbook, and
the incident was escalated although the fix had worked. This wrapper lets callee symptoms
that cleared within ``recent_s`` explain callers, and keeps only causes that still have a
live symptom. (The same rule belongs in ``SymptomDiagnoser`` itself; see docs/live-lab.md.)
"""

from __future__ import annotations

from dataclasses import replace

from healops.diagnose.base import Diagnoser, World
from healops.domain.diagnosis import Diagnosis
from healops.domain.incidents import Incident

__all__ = ["TrailingSymptomDiagnoser"]

_PROPAGATING = frozenset({"errors", "latency", "down"})


class TrailingSymptomDiagnoser:
    def __init__(self, inner: Diagnoser, *, recent_s: float = 15.0) -> None:
        self.inner = inner
        self.recent_s = recent_s

    def __call__(self, incident: Incident, world: World, now: float) -> Diagnosis:
        live_services = {incident.anomalies[s].service for s in incident.live
                         if s in incident.anomalies}
        recent = {sid for sid, a in incident.anomalies.items()
                  if sid not in incident.live and a.kind in _PROPAGATING
                  and a.ts >= now - self.recent_s}
        if not recent:
            return self.inner(incident, world, now)
        shadow = replace(incident, live=set(incident.live) | recent)
        d = self.inner(shadow, world, now)
        causes = tuple(c for c in d.causes if c.component in live_services)
        hypotheses = tuple(h for h in d.hypotheses if h.component in live_services)
        return replace(d, causes=causes, hypotheses=hypotheses)
