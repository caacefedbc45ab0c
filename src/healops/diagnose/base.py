"""The diagnose port and the read-only view of the world it reasons over."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from healops.config.models import RunbookConfig
from healops.domain.diagnosis import Diagnosis
from healops.domain.incidents import Incident
from healops.domain.signals import ChangeEvent
from healops.domain.topology import Topology

__all__ = ["Diagnoser", "World"]


@dataclass(frozen=True)
class World:
    """What diagnosis may read. It holds no handle that could change anything."""

    topology: Topology
    changes: Sequence[ChangeEvent] = ()
    instances: Mapping[str, frozenset[str]] = field(default_factory=dict)
    runbooks: Sequence[RunbookConfig] = ()
    similar: Callable[[str], Sequence[str]] = lambda signature: ()

    def instance_count(self, service: str) -> int:
        seen = len(self.instances.get(service, ()))
        declared = self.topology.services[service].replicas if service in self.topology else 1
        return max(seen, declared)


class Diagnoser(Protocol):
    def __call__(self, incident: Incident, world: World, now: float) -> Diagnosis: ...
