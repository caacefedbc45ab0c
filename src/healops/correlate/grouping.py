"""Grouping anomalies into incidents.

- dedup: a series already attached to an active incident refreshes it;
- grouping: an anomaly joins an active incident on the same service, or on a service within
  ``max_hops`` when both are of a kind that propagates along calls (errors, latency, down);
  local symptoms (disk, certificates, memory, logins) never merge across services;
- flapping: a series that fires and clears ``flap_transitions`` times within
  ``flap_window_s`` is marked flapping, and stays so until it has been stable for the window;
  an incident with a flapping series is suppressed (no diagnosis, no action, no page) until
  it settles;
- muting: an anomaly a ``Muter`` mutes (a silence, a maintenance window) opens and feeds no
  incident;
- inhibition: an anomaly that an inhibition rule's live source inhibits (a caller's errors
  while its database is down) opens no incident of its own, but still joins one that
  grouping finds for it, as evidence (``healops.correlate.inhibit``);
- resolution: an incident with no live anomalies for ``resolve_after_s`` recovers by itself,
  unless the engine holds it (an action or a human is working on it).
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from healops.config.models import CorrelationConfig
from healops.correlate.base import Muter
from healops.correlate.inhibit import Inhibitor, InhibitRule
from healops.domain.incidents import Incident
from healops.domain.signals import Anomaly
from healops.domain.topology import Topology

__all__ = ["CorrelationResult", "Correlator"]


@dataclass
class CorrelationResult:
    opened: list[Incident] = field(default_factory=list)
    updated: list[Incident] = field(default_factory=list)
    quiet: list[Incident] = field(default_factory=list)  # no live anomaly for resolve_after_s
    muted: int = 0  # anomalies a muter muted
    inhibited: int = 0  # anomalies held back from opening an incident by an inhibition rule


class Correlator:
    def __init__(
        self,
        config: CorrelationConfig,
        topology: Topology,
        *,
        new_id: Callable[[], str] | None = None,
        muters: Sequence[Muter] = (),
    ) -> None:
        self.config = config
        self.topology = topology
        self.muters = list(muters)
        self.inhibitor = Inhibitor((InhibitRule.from_config(r) for r in config.inhibit),
                                   topology)
        counter = itertools.count(1)
        self._new_id = new_id or (lambda: f"INC-{next(counter):05d}")
        self._propagating = frozenset(config.propagating_kinds)
        self.active: dict[str, Incident] = {}
        self._owner: dict[str, str] = {}  # series id -> incident id
        self._flips: dict[str, deque[float]] = {}
        self._flapping: set[str] = set()

    def _flip(self, sid: str, now: float) -> None:
        q = self._flips.setdefault(sid, deque())
        q.append(now)
        while q and q[0] < now - self.config.flap_window_s:
            q.popleft()
        if len(q) >= self.config.flap_transitions:
            self._flapping.add(sid)

    def is_flapping(self, sid: str) -> bool:
        return sid in self._flapping

    def _find_group(self, a: Anomaly, now: float) -> Incident | None:
        best: Incident | None = None
        best_d = 10**9
        for inc in self.active.values():
            if inc.last_anomaly_at < now - self.config.group_window_s and not inc.live:
                continue
            if a.service in inc.services:
                return inc
            if a.kind not in self._propagating:
                continue
            if not any(x.kind in self._propagating for x in inc.anomalies.values()
                       if x.id in inc.live):
                continue
            for svc in inc.services:
                d = self.topology.distance(a.service, svc)
                if d is not None and d <= self.config.max_hops and d < best_d:
                    best, best_d = inc, d
        return best

    def observe(
        self,
        fired: Iterable[Anomaly],
        firing: Iterable[Anomaly],
        cleared: Iterable[Anomaly],
        now: float,
    ) -> CorrelationResult:
        res = CorrelationResult()
        touched: dict[str, Incident] = {}
        for a in cleared:
            sid = a.id
            self._flip(sid, now)
            inc_id = self._owner.get(sid)
            if inc_id and inc_id in self.active:
                inc = self.active[inc_id]
                inc.live.discard(sid)
                inc.anomalies[sid] = a
                touched[inc.id] = inc
        fired, firing = list(fired), list(firing)
        for a in fired:
            self._flip(a.id, now)
        # Sources firing now (muted ones too) and those live in active incidents inhibit.
        sources = self.inhibitor.sources(itertools.chain(
            fired, firing, (inc.anomalies[s] for inc in self.active.values()
                            for s in inc.live if s in inc.anomalies)))
        for a in itertools.chain(fired, firing):
            if any(m(a, now) for m in self.muters):
                res.muted += 1
                continue
            sid = a.id
            found = self.active.get(self._owner.get(sid, "")) or self._find_group(a, now)
            if found is None and self.inhibitor.inhibitor_of(a, sources) is not None:
                res.inhibited += 1
                continue
            if found is None:
                inc = Incident.open(self._new_id(), key=f"{a.service}:{a.kind}",
                                    service=a.service, now=now)
                self.active[inc.id] = inc
                res.opened.append(inc)
            else:
                inc = found
            if inc.attach(a):
                inc.note(now, "anomaly", f"{a.kind} on {a.key}", series=sid, value=a.value,
                         baseline=a.baseline, score=a.score)
                touched[inc.id] = inc
            inc.live.add(sid)
            self._owner[sid] = inc.id
        # Flapping ends once a series has been stable (firing or not) for the flap window.
        for sid in list(self._flapping):
            q = self._flips.get(sid, deque())
            while q and q[0] < now - self.config.flap_window_s:
                q.popleft()
            if len(q) < self.config.flap_transitions:
                self._flapping.discard(sid)
        opened = {i.id for i in res.opened}
        for inc in touched.values():
            if inc.id not in opened:
                res.updated.append(inc)
        for inc in self.active.values():
            # Sticky: a series stays flapping until it has been stable for the flap window.
            pool = inc.live or set(inc.anomalies)
            inc.flapping = any(s in self._flapping for s in pool)
            if not inc.live and now - inc.last_anomaly_at >= self.config.resolve_after_s:
                res.quiet.append(inc)
        return res

    def adopt(self, incident: Incident) -> None:
        """Take an incident in flight back after a restart: its series refresh it again
        when they fire again, as if the correlator had never stopped."""
        self.active[incident.id] = incident
        for sid in incident.anomalies:
            self._owner[sid] = incident.id

    def close(self, incident: Incident) -> None:
        """Forget a finished incident; its series may open new incidents later."""
        self.active.pop(incident.id, None)
        for sid in list(incident.anomalies):
            if self._owner.get(sid) == incident.id:
                del self._owner[sid]
