"""The propagation rule shared by every diagnoser: which dependency explains a symptom.

Latency and errors travel from callee to caller. A propagating symptom of a service is
*explained* by any anomalous service it calls, directly or not, whose anomaly started no
later (within ``slack``, the uncertainty of onsets). When the calls from the service to a
direct callee are measured, that callee only explains the symptom if those calls degraded
too: a slow database does not explain a web tier whose calls to it stayed fast.

Both the metric ranking (:func:`~healops.diagnose.rca.rank.rank_root_causes`) and the
engine's :class:`~healops.diagnose.symptoms.SymptomDiagnoser` use this one rule.

>>> from healops.domain.topology import Service, Topology
>>> topo = Topology.build([Service("web", depends_on=("api",)),
...                        Service("api", depends_on=("db",)), Service("db")])
>>> explaining_callees("web", 5.0, {"api": 4.0, "db": 3.0}, topo)
['api', 'db']
>>> explaining_callees("web", 5.0, {"db": 9.0}, topo, slack=2.0)
[]
>>> explaining_callees("web", 5.0, {"api": 4.0}, topo, degraded=lambda caller, callee: False)
[]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from healops.domain.topology import Topology

__all__ = ["explaining_callees"]


def explaining_callees(
    service: str,
    onset: float,
    started: Mapping[str, float],
    topology: Topology,
    *,
    slack: float = 0.0,
    degraded: Callable[[str, str], bool] | None = None,
) -> list[str]:
    """Anomalous services ``service`` depends on that can explain a symptom from ``onset``.

    ``started`` maps each anomalous service to when its anomaly began; ``degraded(caller,
    callee)``, when given, says whether measured calls on a direct edge degraded. Sorted
    by name; empty when nothing explains the symptom (it is then the service's own).
    """
    if service not in topology:
        return []
    direct = set(topology.callees(service))
    out = []
    for callee in sorted(topology.downstream(service)):
        begun = started.get(callee)
        if begun is None or begun > onset + slack:
            continue
        if degraded is not None and callee in direct and not degraded(service, callee):
            continue
        out.append(callee)
    return out
