"""Call edges read from the metrics themselves, for data that comes without a topology.

A series keyed ``(callee, "call:<caller>:<name>")`` measures calls from ``caller`` to
``callee``: each such name is one ``depends_on`` edge. Labels are never looked at.

>>> topo = infer_topology([("cart", "call:web:latency"), ("db", "call:cart:latency"),
...                        ("web", "cpu")])
>>> topo is not None and (topo.callees("web"), topo.callers("db"))
(('cart',), ('cart',))
>>> infer_topology([("web", "cpu")]) is None
True
"""

from __future__ import annotations

from collections.abc import Iterable

from healops.diagnose.rca.frame import MetricKey
from healops.diagnose.rca.kinds import call_caller
from healops.domain.topology import Service, Topology

__all__ = ["infer_topology"]


def infer_topology(keys: Iterable[MetricKey]) -> Topology | None:
    """The call graph named by ``call:`` metrics; None when there are none."""
    services: set[str] = set()
    callees: dict[str, set[str]] = {}
    for svc, metric in keys:
        services.add(svc)
        caller = call_caller(metric)
        if caller is not None and caller != svc:
            services.add(caller)
            callees.setdefault(caller, set()).add(svc)
    if not callees:
        return None
    return Topology.build(
        Service(name, depends_on=tuple(sorted(callees.get(name, ())))) for name in sorted(services)
    )
