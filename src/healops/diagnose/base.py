"""The diagnose port and the read-only view of the world it reasons over."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from healops.config.models import RunbookConfig
from healops.diagnose.rca.frame import MetricFrame
from healops.domain.diagnosis import Diagnosis
from healops.domain.incidents import Incident
from healops.domain.signals import ChangeEvent
from healops.domain.topology import Topology

__all__ = ["Diagnoser", "MetricHistory", "World"]


class MetricHistory(Protocol):
    """Recent metric samples, read-only (``healops.diagnose.history.SeriesHistory``)."""

    def frame(self, start: float, end: float, *, limit: int | None = None) -> MetricFrame:
        """The samples taken in ``[start, end]``, the last ``limit`` of them if given."""
        ...


@dataclass(frozen=True)
class World:
    """What diagnosis may read. It holds no handle that could change anything."""

    topology: Topology
    changes: Sequence[ChangeEvent] = ()
    instances: Mapping[str, frozenset[str]] = field(default_factory=dict)
    runbooks: Sequence[RunbookConfig] = ()
    similar: Callable[[str], Sequence[str]] = lambda signature: ()
    history: MetricHistory | None = None  # None: no metric history kept

    def instance_count(self, service: str) -> int:
        seen = len(self.instances.get(service, ()))
        declared = self.topology.services[service].replicas if service in self.topology else 1
        return max(seen, declared)


class Diagnoser(Protocol):
    def __call__(self, incident: Incident, world: World, now: float) -> Diagnosis: ...
