"""Split simultaneous, unrelated failures into independent causes, and flag close calls.

A cause explains itself and every service that calls it, directly or not. Walking the
ranking best first, an anomalous service already explained by a kept cause joins that
cause's cluster; any other starts a new cluster. Without a topology nothing explains
anything else, so every anomalous service strong enough stands alone.

>>> from healops.domain.topology import Service, Topology
>>> topo = Topology.build([Service("web", depends_on=("cart", "pay")), Service("cart"),
...                        Service("pay")])
>>> ranked = [_cause("cart", 5.0), _cause("pay", 4.0), _cause("web", 3.0)]
>>> [(c.root.service, [m.service for m in c.members]) for c in split_causes(ranked, topo)]
[('cart', ['web']), ('pay', [])]
>>> is_ambiguous([_cause("a", 1.0), _cause("b", 0.95)])
True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from healops.diagnose.rca.rank import RankedCause
from healops.domain.topology import Topology

__all__ = ["CauseCluster", "is_ambiguous", "split_causes"]


@dataclass(frozen=True, slots=True)
class CauseCluster:
    """One independent failure: its most likely cause and the symptoms it explains."""

    root: RankedCause
    members: tuple[RankedCause, ...] = ()


def is_ambiguous(causes: Sequence[RankedCause], *, margin: float = 0.1) -> bool:
    """True when the top two scores differ by less than ``margin`` of the top score."""
    if len(causes) < 2 or causes[0].score <= 0:
        return False
    return (causes[0].score - causes[1].score) < margin * causes[0].score


def split_causes(
    causes: Sequence[RankedCause],
    topology: Topology | None,
    *,
    min_share: float = 0.3,
) -> list[CauseCluster]:
    """Group ``causes`` (best first) into independent clusters.

    Only services whose score reaches ``min_share`` of the best score count as anomalous;
    with a topology, a service also counts when a kept cause explains it.
    """
    if not causes or causes[0].score <= 0:
        return []
    floor = min_share * causes[0].score
    roots: list[RankedCause] = []
    members: dict[str, list[RankedCause]] = {}
    reach: dict[str, set[str]] = {}
    for cause in causes:
        owner = next((r.service for r in roots if cause.service in reach[r.service]), None)
        if owner is not None:
            if cause.score > 0:
                members[owner].append(cause)
            continue
        if cause.score < floor:
            continue
        roots.append(cause)
        members[cause.service] = []
        known = topology is not None and cause.service in topology
        reach[cause.service] = topology.upstream(cause.service) if known and topology else set()
    return [CauseCluster(r, tuple(members[r.service])) for r in roots]


def _cause(service: str, score: float) -> RankedCause:
    """A bare cause, for examples."""
    return RankedCause(service, "cpu", "cpu", score, 0.0, 0)
