"""Priority from impact x urgency, the ITIL 3 x 3 matrix: ``P = impact + urgency - 1``.

Impact comes from the business: the service tier (or an override), one level higher when
the incident spreads over many services. Urgency comes from the symptoms: a service down
or failing requests, or an error budget burning, cannot wait; a disk filling can for a bit.

>>> from healops.config.itsm import PriorityConfig
>>> cfg = PriorityConfig()
>>> assess(cfg, tier=1, services=1, symptoms=["errors"], service="api")
Assessment(priority='P1', impact=1, urgency=1)
>>> assess(cfg, tier=3, services=1, symptoms=["disk_filling"], service="worker")
Assessment(priority='P4', impact=3, urgency=2)
>>> assess(cfg, tier=3, services=4, symptoms=["traffic"], service="worker").priority
'P4'
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from healops.config.itsm import PriorityConfig

__all__ = ["PRIORITIES", "Assessment", "assess"]

PRIORITIES = ("P1", "P2", "P3", "P4", "P5")


@dataclass(frozen=True, slots=True)
class Assessment:
    priority: str
    impact: int
    urgency: int


def assess(cfg: PriorityConfig, *, tier: int, services: int, symptoms: Iterable[str],
           service: str = "") -> Assessment:
    impact = cfg.services.get(service, cfg.tier_impact.get(tier, 3))
    if services >= cfg.wide_services:
        impact -= 1
    impact = min(3, max(1, impact))
    kinds = set(symptoms)
    urgency = min((cfg.urgency.get(k, 3) for k in kinds), default=3)
    if kinds & set(cfg.budget_exhausted_kinds):
        urgency = 1
    urgency = min(3, max(1, urgency))
    return Assessment(PRIORITIES[impact + urgency - 2], impact, urgency)
