"""Inhibition: a failed dependency inhibits its callers' symptoms.

A rule names source kinds and target kinds. While a source anomaly is live on service S
(firing now, or live in an active incident; a source that is itself silenced or in
maintenance still inhibits, as in Alertmanager), a target-kind anomaly on a service in the
rule's scope of S must not open an incident of its own:

- ``callers``: services that call S, directly or through at most ``max_hops`` calls
  (callers depend on their callees, so ``S`` is downstream of them);
- ``same_service``: S itself.

The correlator still lets an inhibited anomaly join an incident that grouping finds for it:
diagnosis needs the callers' symptoms as evidence. Optional Alertmanager matchers narrow a
rule's sources and targets further.

>>> from healops.domain.signals import SeriesKey
>>> from healops.domain.topology import Service, Topology
>>> topo = Topology.build([Service("web", depends_on=("api",)),
...                        Service("api", depends_on=("db",)), Service("db")])
>>> rule = InhibitRule(frozenset({"down"}), frozenset({"errors"}), max_hops=1)
>>> inh = Inhibitor([rule], topo)
>>> def anomaly(service, kind):
...     return Anomaly(SeriesKey.of("m", service=service), kind, 1.0, 1.0, 0.0, 0.0, 0.0)
>>> live = inh.sources([anomaly("db", "down")])
>>> inh.inhibitor_of(anomaly("api", "errors"), live) is not None  # api calls db
True
>>> inh.inhibitor_of(anomaly("web", "errors"), live) is None  # two hops: out of scope
True
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from healops.correlate.silences import Matcher, anomaly_labels, parse_matcher
from healops.domain.signals import Anomaly
from healops.domain.topology import Topology

if TYPE_CHECKING:
    from healops.config.models import InhibitRuleConfig

__all__ = ["InhibitRule", "Inhibitor", "Scope", "Sources"]

Scope = Literal["callers", "same_service"]


@dataclass(frozen=True, slots=True)
class InhibitRule:
    source_kinds: frozenset[str]
    target_kinds: frozenset[str]
    scope: Scope = "callers"
    max_hops: int = 2
    source_matchers: tuple[Matcher, ...] = ()
    target_matchers: tuple[Matcher, ...] = ()

    @classmethod
    def from_config(cls, cfg: InhibitRuleConfig) -> InhibitRule:
        return cls(frozenset(cfg.source_kinds), frozenset(cfg.target_kinds), cfg.scope,
                   cfg.max_hops, tuple(parse_matcher(m) for m in cfg.source_matchers),
                   tuple(parse_matcher(m) for m in cfg.target_matchers))

    def is_source(self, a: Anomaly) -> bool:
        return a.kind in self.source_kinds and _all(self.source_matchers, a)

    def is_target(self, a: Anomaly) -> bool:
        return a.kind in self.target_kinds and _all(self.target_matchers, a)


def _all(matchers: Sequence[Matcher], a: Anomaly) -> bool:
    if not matchers:
        return True
    labels = anomaly_labels(a)
    return all(m.matches(labels) for m in matchers)


# Per rule (by position): service -> one live source anomaly on it.
Sources = tuple[dict[str, Anomaly], ...]


class Inhibitor:
    """Decides which anomalies a live source inhibits; the topology gives the scope."""

    def __init__(self, rules: Iterable[InhibitRule], topology: Topology) -> None:
        self.rules = tuple(rules)
        self.topology = topology
        self._hops: dict[tuple[str, str], int | None] = {}

    def sources(self, live: Iterable[Anomaly]) -> Sources:
        """Index the live anomalies that are sources of some rule, by rule and service."""
        out: Sources = tuple({} for _ in self.rules)
        if not self.rules:
            return out
        for a in live:
            for i, rule in enumerate(self.rules):
                if rule.is_source(a):
                    out[i].setdefault(a.service, a)
        return out

    def inhibitor_of(self, target: Anomaly, sources: Sources) -> Anomaly | None:
        """The live source that inhibits ``target``, or None when nothing does."""
        for rule, by_service in zip(self.rules, sources, strict=True):
            if not by_service or not rule.is_target(target):
                continue
            if rule.scope == "same_service":
                src = by_service.get(target.service)
                if src is not None and src.id != target.id:
                    return src
                continue
            for service, src in by_service.items():
                hops = self._call_hops(target.service, service)
                if hops is not None and 1 <= hops <= rule.max_hops:
                    return src
        return None

    def _call_hops(self, caller: str, callee: str) -> int | None:
        """How many calls from ``caller`` down to ``callee``; None when it does not call it."""
        key = (caller, callee)
        if key not in self._hops:
            path = (self.topology.path(caller, callee)
                    if callee in self.topology.downstream(caller) else [])
            self._hops[key] = len(path) - 1 if path else None
        return self._hops[key]
