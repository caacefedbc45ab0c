"""The estate as healops knows it: services, their instances, dependencies and tiers.

Diagnosis gets this read-only. ``depends_on`` edges point from caller to callee.

>>> topo = Topology.build([Service("web", depends_on=("api",)), Service("api", depends_on=("db",)),
...                        Service("db")])
>>> topo.callees("web"), topo.callers("db"), topo.distance("web", "db")
(('api',), ('api',), 2)
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

__all__ = ["Instance", "Service", "Topology"]


@dataclass(frozen=True, slots=True)
class Instance:
    name: str
    service: str
    host: str = ""


@dataclass(frozen=True, slots=True)
class Service:
    name: str
    depends_on: tuple[str, ...] = ()
    tier: int = 2
    owner: str = ""
    replicas: int = 1
    instances: tuple[str, ...] = ()
    stateful: bool = False


@dataclass(frozen=True)
class Topology:
    services: Mapping[str, Service]
    _callers: Mapping[str, tuple[str, ...]] = field(repr=False)

    @classmethod
    def build(cls, services: Iterable[Service]) -> Topology:
        by_name = {s.name: s for s in services}
        callers: dict[str, list[str]] = {name: [] for name in by_name}
        for s in by_name.values():
            for dep in s.depends_on:
                if dep not in by_name:
                    raise ValueError(f"service {s.name!r} depends on unknown service {dep!r}")
                callers[dep].append(s.name)
        return cls(
            MappingProxyType(by_name),
            MappingProxyType({k: tuple(sorted(v)) for k, v in callers.items()}),
        )

    @classmethod
    def empty(cls) -> Topology:
        return cls.build(())

    def __contains__(self, name: object) -> bool:
        return name in self.services

    def callees(self, name: str) -> tuple[str, ...]:
        svc = self.services.get(name)
        return svc.depends_on if svc else ()

    def callers(self, name: str) -> tuple[str, ...]:
        return self._callers.get(name, ())

    def neighbours(self, name: str) -> tuple[str, ...]:
        return tuple(sorted(set(self.callees(name)) | set(self.callers(name))))

    def downstream(self, name: str) -> set[str]:
        """Every service ``name`` depends on, directly or not."""
        return self._reach(name, self.callees)

    def upstream(self, name: str) -> set[str]:
        """Every service that depends on ``name``, directly or not."""
        return self._reach(name, self.callers)

    def _reach(self, start: str, step: object) -> set[str]:
        seen: set[str] = set()
        todo = deque([start])
        while todo:
            cur = todo.popleft()
            for nxt in step(cur):  # type: ignore[operator]
                if nxt not in seen and nxt != start:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    def distance(self, a: str, b: str) -> int | None:
        """Undirected hop count between two services, None when unconnected or unknown."""
        if a == b:
            return 0 if a in self.services else None
        seen = {a}
        frontier = [a]
        hops = 0
        while frontier:
            hops += 1
            nxt: list[str] = []
            for cur in frontier:
                for n in self.neighbours(cur):
                    if n == b:
                        return hops
                    if n not in seen:
                        seen.add(n)
                        nxt.append(n)
            frontier = nxt
        return None

    def path(self, caller: str, callee: str) -> list[str]:
        """A shortest call path from ``caller`` down to ``callee`` (empty when none)."""
        prev: dict[str, str] = {}
        todo = deque([caller])
        seen = {caller}
        while todo:
            cur = todo.popleft()
            if cur == callee:
                out = [cur]
                while out[-1] != caller:
                    out.append(prev[out[-1]])
                return out[::-1]
            for n in self.callees(cur):
                if n not in seen:
                    seen.add(n)
                    prev[n] = cur
                    todo.append(n)
        return []
