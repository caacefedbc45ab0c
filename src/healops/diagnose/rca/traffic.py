"""What traffic says about where a fault is: lost traffic points up, extra load explains.

- **Lost traffic.** A service whose incoming traffic fell lost it upstream. The loss starts
  at a caller whose own traffic did not fall as far: it stopped sending (an early return,
  an exception before the call). A call series that stops reporting altogether is a
  complete stop of those calls. Each such caller is credited with every callee's loss; an
  entry service's own drop comes from outside and credits no one.
- **More load.** A service whose own traffic rose while its latency rose is slowing down
  under that load: its latency is a victim's symptom, not a cause.

>>> from healops.domain.topology import Service, Topology
>>> topo = Topology.build([Service("shop", depends_on=("pay",)), Service("pay")])
>>> drop = SeriesScore("pay", "requests", "workload", "own", 5.0, 1, 10.0, 0.0)
>>> {svc: (round(v, 2), [e.callee for e in edges])
...  for svc, (v, edges) in lost_traffic([drop], topo, threshold=3.0, stop_z=5.0).items()}
{'shop': (1.1, ['pay'])}
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from healops.diagnose.rca.kinds import call_caller
from healops.diagnose.rca.score import SeriesScore
from healops.domain.topology import Topology

__all__ = ["LostEdge", "compress", "is_drop", "lost_traffic", "under_more_load"]

_TRAFFIC: frozenset[str] = frozenset({"workload", "network"})


def compress(z: float, threshold: float) -> float:
    """Log-compressed excess over the threshold: one near-constant series cannot dominate."""
    return math.log1p(max(z - threshold, 0.0))


def is_drop(s: SeriesScore) -> bool:
    """Own traffic that fell: a symptom of the callers that stopped sending it."""
    return s.kind in _TRAFFIC and s.role == "own" and s.after < s.before


@dataclass(frozen=True, slots=True)
class LostEdge:
    """Traffic from ``caller`` to ``callee`` that stopped or fell, and the series showing it."""

    caller: str
    callee: str
    value: float  # compressed strength of the loss, net of the caller's own loss
    series: SeriesScore


def lost_traffic(
    scores: Sequence[SeriesScore],
    topology: Topology | None,
    *,
    threshold: float,
    stop_z: float,
) -> dict[str, tuple[float, tuple[LostEdge, ...]]]:
    """Per caller: the summed credit for traffic it stopped sending, and the edges.

    ``stop_z`` is the strength of a complete stop, in robust units.
    """
    if topology is None:
        return {}
    drop: dict[str, tuple[float, SeriesScore]] = {}
    for s in scores:
        if is_drop(s) and s.onset is not None:
            value = compress(s.strength, threshold)
            if value > drop.get(s.service, (0.0, s))[0]:
                drop[s.service] = (value, s)
    edges: dict[tuple[str, str], tuple[float, SeriesScore]] = {}
    for svc, (value, s) in drop.items():
        for caller in topology.callers(svc) if svc in topology else ():
            edges[(caller, svc)] = (value, s)
    stop = compress(stop_z, threshold)
    for s in scores:
        sender = call_caller(s.metric)
        if s.vanished and sender is not None:
            if stop > edges.get((sender, s.service), (0.0, s))[0]:
                edges[(sender, s.service)] = (stop, s)
    out: dict[str, tuple[float, tuple[LostEdge, ...]]] = {}
    for (caller, callee), (value, s) in sorted(edges.items()):
        own = drop[caller][0] if caller in drop else 0.0
        if own >= value:
            continue  # the caller lost its own traffic: the loss started above it
        total, lost = out.get(caller, (0.0, ()))
        out[caller] = (total + value - own, (*lost, LostEdge(caller, callee, value - own, s)))
    return out


def under_more_load(scores: Sequence[SeriesScore], rise: float) -> dict[str, SeriesScore]:
    """Services whose own traffic rose by at least ``rise`` robust units, and that series."""
    out: dict[str, SeriesScore] = {}
    for s in scores:
        if s.kind == "workload" and s.role == "own" and s.after > s.before \
                and s.strength >= rise:
            if s.service not in out or s.strength > out[s.service].strength:
                out[s.service] = s
    return out
