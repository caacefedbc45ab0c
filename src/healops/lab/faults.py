"""Fault classes: what each breaks in the estate (ground truth), whether it is still
present, and what a human would do to fix it. Listed in one table, ``FAULTS``."""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar, Literal

from healops.lab.estate import DAY, Estate, ServiceState

__all__ = ["FAULTS", "Fault", "Expect"]

Expect = Literal["auto", "approval", "escalate", "ignore"]


@dataclass
class Fault(ABC):
    """One injected fault on one target (a service or an instance)."""

    name: ClassVar[str] = ""
    expect: ClassVar[Expect] = "auto"
    scope: ClassVar[Literal["service", "instance"]] = "service"
    service: str = ""
    target: str = ""
    injected_at: float = 0.0
    cured_at: float | None = None
    cured_by: str = ""  # "engine", "human" or "self"

    @classmethod
    def eligible(cls, st: ServiceState) -> bool:
        return True

    @abstractmethod
    def inject(self, estate: Estate, now: float, rng: random.Random) -> None:
        """Break the estate (ground truth)."""

    @abstractmethod
    def present(self, estate: Estate, now: float) -> bool:
        """Is the fault still there?"""

    @abstractmethod
    def human_fix(self, estate: Estate, now: float) -> None:
        """What an on-call engineer does once they have found it."""

    def _inst(self, estate: Estate):  # type: ignore[no-untyped-def]
        found = estate.instance(self.target)
        return found[1] if found else None


def _pick_instance(estate: Estate, service: str, rng: random.Random) -> str:
    return rng.choice(estate.services[service].instances).name


class CrashloopAfterDeploy(Fault):
    name = "crashloop_after_deploy"

    @classmethod
    def eligible(cls, st: ServiceState) -> bool:
        return not st.spec.stateful

    def inject(self, estate: Estate, now: float, rng: random.Random) -> None:
        self.version = estate.deploy(self.service, now, effect="crash")

    def present(self, estate: Estate, now: float) -> bool:
        st = estate.services[self.service]
        return any(st.bad_versions.get(i.version) == "crash" for i in st.instances)

    def human_fix(self, estate: Estate, now: float) -> None:
        estate.rollback(self.service, now)


class BadDeployErrors(CrashloopAfterDeploy):
    name = "bad_deploy_errors"

    def inject(self, estate: Estate, now: float, rng: random.Random) -> None:
        self.version = estate.deploy(self.service, now, effect="errors")

    def present(self, estate: Estate, now: float) -> bool:
        st = estate.services[self.service]
        return any(st.bad_versions.get(i.version) == "errors" for i in st.instances)


class DiskFilling(Fault):
    name = "disk_filling"
    scope = "instance"

    def inject(self, estate: Estate, now: float, rng: random.Random) -> None:
        inst = self._inst(estate)
        inst.disk_rate = (1.0 - inst.disk) / rng.uniform(1200, 3600)  # full in 20-60 min

    def present(self, estate: Estate, now: float) -> bool:
        inst = self._inst(estate)
        return inst is not None and inst.disk_rate > 0

    def human_fix(self, estate: Estate, now: float) -> None:
        estate.clean_disk(self.target)


class CertExpiring(Fault):
    name = "cert_expiring"

    @classmethod
    def eligible(cls, st: ServiceState) -> bool:
        return st.spec.has_cert

    def inject(self, estate: Estate, now: float, rng: random.Random) -> None:
        estate.services[self.service].cert_expiry = now + rng.uniform(0.5, 6) * DAY

    def present(self, estate: Estate, now: float) -> bool:
        return estate.services[self.service].cert_expiry - now < 30 * DAY

    def human_fix(self, estate: Estate, now: float) -> None:
        estate.renew_cert(self.service, now)


class MemoryLeak(Fault):
    name = "memory_leak"
    scope = "instance"

    @classmethod
    def eligible(cls, st: ServiceState) -> bool:
        return len(st.instances) >= 2

    def inject(self, estate: Estate, now: float, rng: random.Random) -> None:
        inst = self._inst(estate)
        inst.memory_rate = (1.0 - inst.memory) / rng.uniform(900, 2400)  # OOM in 15-40 min

    def present(self, estate: Estate, now: float) -> bool:
        inst = self._inst(estate)
        return inst is not None and inst.memory_rate > 0

    def human_fix(self, estate: Estate, now: float) -> None:
        estate.restart(self.target, now)


class SlowDependency(Fault):
    name = "slow_dependency"
    expect = "approval"

    @classmethod
    def eligible(cls, st: ServiceState) -> bool:
        return st.spec.stateful

    def inject(self, estate: Estate, now: float, rng: random.Random) -> None:
        estate.services[self.service].slow_factor = rng.uniform(6, 12)

    def present(self, estate: Estate, now: float) -> bool:
        return estate.services[self.service].slow_factor > 1.0

    def human_fix(self, estate: Estate, now: float) -> None:
        estate.failover(self.service, now)


class TrafficSurge(Fault):
    name = "traffic_surge"

    @classmethod
    def eligible(cls, st: ServiceState) -> bool:
        return st.spec.tier == 1 and not st.spec.stateful and len(st.instances) >= 2

    def inject(self, estate: Estate, now: float, rng: random.Random) -> None:
        st = estate.services[self.service]
        del st.instances[st.spec.replicas:]  # the last surge's extra replicas are gone
        self.capacity_needed = len(st.instances)
        # A surge worth the name: at least 10% over what the replicas can serve.
        floor = 1.1 * st.spec.capacity_rps * len(st.instances) / (
            st.spec.base_rps * estate.diurnal(now))
        st.traffic_mult = max(rng.uniform(2.2, 3.0), floor)
        st.surge_until = now + rng.uniform(1800, 3600)

    def present(self, estate: Estate, now: float) -> bool:
        st = estate.services[self.service]
        spec = st.spec
        serving = sum(1 for i in st.instances if i.serving(now))
        load = spec.base_rps * estate.diurnal(now) * st.traffic_mult / max(serving, 1)
        return load > 0.85 * spec.capacity_rps

    def human_fix(self, estate: Estate, now: float) -> None:
        st = estate.services[self.service]
        need = int(st.spec.base_rps * 1.25 * st.traffic_mult / (0.7 * st.spec.capacity_rps)) + 1
        estate.scale(self.service, max(need - len(st.instances), 1), now)


class BadReplica(Fault):
    name = "bad_replica"
    scope = "instance"

    @classmethod
    def eligible(cls, st: ServiceState) -> bool:
        return len(st.instances) >= 2

    def inject(self, estate: Estate, now: float, rng: random.Random) -> None:
        inst = self._inst(estate)
        inst.own_errors = rng.uniform(0.3, 0.7)
        inst.latency_factor = rng.uniform(2.5, 4)

    def present(self, estate: Estate, now: float) -> bool:
        inst = self._inst(estate)
        return inst is not None and not inst.drained and inst.own_errors > 0

    def human_fix(self, estate: Estate, now: float) -> None:
        estate.replace(self.target, now)


class SecurityAnomaly(Fault):
    name = "security_anomaly"
    expect = "escalate"

    @classmethod
    def eligible(cls, st: ServiceState) -> bool:
        return st.spec.auth

    def inject(self, estate: Estate, now: float, rng: random.Random) -> None:
        estate.services[self.service].login_attack = rng.uniform(60, 200)

    def present(self, estate: Estate, now: float) -> bool:
        return estate.services[self.service].login_attack > 0

    def human_fix(self, estate: Estate, now: float) -> None:
        estate.services[self.service].login_attack = 0.0  # block the source at the edge


class NoRunbook(Fault):
    """A stuck queue consumer: healops has no runbook for it and must hand it over."""

    name = "no_runbook"
    expect = "escalate"

    @classmethod
    def eligible(cls, st: ServiceState) -> bool:
        return st.spec.queue

    def inject(self, estate: Estate, now: float, rng: random.Random) -> None:
        estate.services[self.service].queue_stalled = True

    def present(self, estate: Estate, now: float) -> bool:
        return estate.services[self.service].queue_stalled

    def human_fix(self, estate: Estate, now: float) -> None:
        estate.services[self.service].queue_stalled = False


class FlappingNoise(Fault):
    """Latency bursts on one instance that come and go: no action may follow."""

    name = "flapping_noise"
    expect = "ignore"
    scope = "instance"

    def inject(self, estate: Estate, now: float, rng: random.Random) -> None:
        self.until = now + rng.uniform(480, 900)
        self._inst(estate).noise_until = self.until

    def present(self, estate: Estate, now: float) -> bool:
        return now < self.until

    def human_fix(self, estate: Estate, now: float) -> None:
        """Nothing to fix: the noise passes by itself."""


FAULTS: dict[str, type[Fault]] = {
    f.name: f
    for f in (CrashloopAfterDeploy, BadDeployErrors, DiskFilling, CertExpiring, MemoryLeak,
              SlowDependency, TrafficSurge, BadReplica, SecurityAnomaly, NoRunbook,
              FlappingNoise)
}


def make_fault(name: str, estate: Estate, rng: random.Random,
               service: str | None = None, exclude: set[str] | None = None) -> Fault:
    cls = FAULTS[name]
    choices = sorted(s for s, st in estate.services.items() if cls.eligible(st)
                     and s not in (exclude or set()))
    if service is not None:
        if service not in choices:
            raise ValueError(f"fault {name} cannot target service {service!r}")
        svc = service
    else:
        if not choices:
            raise ValueError(f"fault {name} has no eligible service")
        svc = rng.choice(choices)
    fault = cls(service=svc)
    fault.target = _pick_instance(estate, svc, rng) if cls.scope == "instance" else svc
    return fault
