"""What changed: recent changes ranked by distance in the call graph, then in time.

A change is a suspect when it landed shortly before the symptoms (within ``window_s`` of
the first one, or while they were still starting) and near them in the call graph: on a
symptomatic service first, then one call away, and so on. Among changes equally near, the
most recent one before the symptoms comes first.

>>> from healops.domain.signals import ChangeEvent
>>> from healops.domain.topology import Service, Topology
>>> topo = Topology.build([Service("web", depends_on=("db",)), Service("db"),
...                        Service("batch")])
>>> changes = [ChangeEvent(90.0, "batch", "deploy"), ChangeEvent(50.0, "db", "config"),
...            ChangeEvent(80.0, "web", "deploy"), ChangeEvent(10.0, "web", "flag")]
>>> [(r.change.service, r.hops, r.lead_s) for r in
...  rank_changes(changes, {"web": 100.0}, topo, window_s=60.0)]
[('web', 0, 20.0), ('db', 1, 50.0), ('batch', None, 10.0)]
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from healops.domain.signals import ChangeEvent
from healops.domain.topology import Topology

__all__ = ["RankedChange", "hops_between", "rank_changes"]


@dataclass(frozen=True, slots=True)
class RankedChange:
    """A change, how far it is from the symptoms in the graph, and how long before them."""

    change: ChangeEvent
    hops: int | None  # calls between it and the nearest symptomatic service; None: unlinked
    nearest: str  # that service ("" when unlinked)
    lead_s: float  # seconds from the change to the first symptom (negative: after it)


def hops_between(topology: Topology | None, start: str, targets: set[str]) -> tuple[int, str]:
    """Fewest calls, either direction, from ``start`` to one of ``targets`` (-1 if none)."""
    if start in targets:
        return 0, start
    if topology is None or start not in topology:
        return -1, ""
    seen = {start}
    queue: deque[tuple[str, int]] = deque([(start, 0)])
    while queue:
        node, dist = queue.popleft()
        for nxt in topology.neighbours(node):
            if nxt in seen:
                continue
            if nxt in targets:
                return dist + 1, nxt
            seen.add(nxt)
            queue.append((nxt, dist + 1))
    return -1, ""


def rank_changes(
    changes: Sequence[ChangeEvent],
    symptoms: Mapping[str, float],
    topology: Topology | None,
    *,
    window_s: float,
    max_hops: int | None = None,
) -> list[RankedChange]:
    """Changes from ``window_s`` before the first symptom to the last symptom's start.

    ``symptoms`` maps each symptomatic service to when its symptoms began. Nearest in the
    graph first (unlinked last), then the shortest lead; ``max_hops`` drops farther ones.
    """
    if not symptoms:
        return []
    first, last = min(symptoms.values()), max(symptoms.values())
    targets = set(symptoms)
    out: list[RankedChange] = []
    for change in changes:
        if not first - window_s <= change.ts <= last:
            continue
        hops, nearest = hops_between(topology, change.service, targets)
        if max_hops is not None and (hops < 0 or hops > max_hops):
            continue
        out.append(RankedChange(change, hops if hops >= 0 else None, nearest,
                                first - change.ts))
    out.sort(key=lambda r: (r.hops is None, r.hops or 0, abs(r.lead_s), r.change.service))
    return out
