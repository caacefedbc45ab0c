"""A small production estate, simulated in discrete ticks.

Services call each other along declared dependencies; instances have versions, memory,
disks and restarts; services have traffic with a daily shape, TLS certificates and
capacity. Faults set ground-truth state here; the estate then produces the telemetry a
Prometheus scrape of real services would: per-instance metrics, plus deploy events.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

import numpy as np

from healops.domain.signals import ChangeEvent, MetricBatch, SeriesKey
from healops.domain.topology import Service, Topology

__all__ = ["Estate", "InstanceState", "ServiceSpec", "ServiceState", "default_specs"]

DAY = 86_400.0


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    depends_on: tuple[str, ...] = ()
    replicas: int = 2
    base_rps: float = 100.0
    capacity_rps: float = 120.0  # per instance
    latency_ms: float = 20.0
    tier: int = 2
    stateful: bool = False
    has_cert: bool = False
    auth: bool = False
    queue: bool = False


def default_specs() -> list[ServiceSpec]:
    return [
        # Capacities leave room to lose one instance at peak (N+1), as SREs size them.
        ServiceSpec("edge", ("api", "auth"), 3, 300, 250, 8, tier=1, has_cert=True),
        ServiceSpec("api", ("orders", "catalog", "auth"), 3, 280, 230, 15, tier=1),
        ServiceSpec("auth", ("db", "cache"), 2, 150, 240, 10, tier=1, auth=True),
        ServiceSpec("orders", ("db", "payments"), 2, 80, 130, 25, tier=1),
        ServiceSpec("payments", ("db",), 2, 40, 70, 40, tier=1, has_cert=True),
        ServiceSpec("catalog", ("cache", "db"), 2, 200, 320, 12, tier=2),
        ServiceSpec("cache", (), 1, 350, 800, 2, tier=2),
        ServiceSpec("db", (), 1, 300, 700, 5, tier=1, stateful=True),
        ServiceSpec("worker", ("db",), 1, 20, 50, 30, tier=3, queue=True),
    ]


@dataclass
class InstanceState:
    name: str
    service: str
    version: str = "v1"
    up: bool = True
    drained: bool = False
    down_until: float = 0.0
    restarts: int = 0
    memory: float = 0.35
    base_memory: float = 0.35  # what a fresh process uses
    memory_rate: float = 0.0  # per second; a leak
    disk: float = 0.45
    disk_rate: float = 0.0  # per second; log spam
    own_errors: float = 0.0  # a bad replica's own error ratio
    latency_factor: float = 1.0
    noise_until: float = 0.0  # flapping latency noise
    healthy_at: float = 0.0

    def serving(self, now: float) -> bool:
        return self.up and not self.drained and now >= self.down_until


@dataclass
class ServiceState:
    spec: ServiceSpec
    instances: list[InstanceState]
    versions: list[str] = field(default_factory=lambda: ["v1"])
    bad_versions: dict[str, str] = field(default_factory=dict)  # version -> "crash" | "errors"
    traffic_mult: float = 1.0
    surge_until: float = 0.0  # a surge passes; the autoscaler then scales back in
    cert_expiry: float = math.inf
    slow_factor: float = 1.0
    login_attack: float = 0.0
    queue_depth: float = 20.0
    queue_stalled: bool = False
    next_instance: int = 0
    # last tick's ground truth, for the scoreboard
    errors: float = 0.0
    latency: float = 0.0
    degraded: bool = False


class Estate:
    """The simulated estate. ``tick(now)`` advances it and returns its telemetry."""

    def __init__(self, specs: list[ServiceSpec] | None = None, *, seed: int = 0,
                 start: float = 0.0) -> None:
        self.rng = random.Random(seed)
        self.np_rng = np.random.default_rng(seed)
        self.specs = specs or default_specs()
        self.services: dict[str, ServiceState] = {}
        for spec in self.specs:
            st = ServiceState(spec, [])
            for _ in range(spec.replicas):
                self._new_instance(st, start)
            if spec.has_cert:
                st.cert_expiry = start + 60 * DAY
            self.services[spec.name] = st
        self.order = self._topo_order()
        self.pending_changes: list[ChangeEvent] = []
        self._keys: tuple[SeriesKey, ...] = ()
        self._key_sig: tuple[tuple[str, ...], ...] = ()
        self._base_lat = {n: self._base_latency(n) for n in self.services}
        self.last_tick = start
        # The control plane's record of changes: idempotency key -> times its change was
        # applied, as a real platform keeps the key in an annotation on the object it changed.
        self.effects: dict[str, int] = {}

    def topology(self) -> Topology:
        return Topology.build(Service(s.name, s.depends_on, s.tier, "", s.replicas, (),
                                      s.stateful) for s in self.specs)

    def _topo_order(self) -> list[str]:
        done: list[str] = []
        seen: set[str] = set()

        def visit(n: str) -> None:
            if n in seen:
                return
            seen.add(n)
            for d in self.services[n].spec.depends_on:
                visit(d)
            done.append(n)

        for n in self.services:
            visit(n)
        return done

    def _new_instance(self, st: ServiceState, now: float) -> InstanceState:
        st.next_instance += 1
        mem = 0.3 + 0.1 * self.rng.random()
        inst = InstanceState(f"{st.spec.name}-{st.next_instance}", st.spec.name,
                             version=st.versions[-1] if st.versions else "v1",
                             memory=mem, base_memory=mem,
                             disk=0.35 + 0.2 * self.rng.random())
        inst.down_until = now
        st.instances.append(inst)
        return inst

    def instance(self, name: str) -> tuple[ServiceState, InstanceState] | None:
        svc = name.rsplit("-", 1)[0]
        st = self.services.get(svc)
        if st is None:
            return None
        for inst in st.instances:
            if inst.name == name:
                return st, inst
        return None

    # ---- the physics -----------------------------------------------------------------
    def diurnal(self, now: float) -> float:
        return 1.0 + 0.25 * math.sin(2 * math.pi * (now % DAY) / DAY)

    def tick(self, now: float) -> tuple[MetricBatch, list[ChangeEvent]]:
        dt = max(now - self.last_tick, 0.0)
        self.last_tick = now
        rnd = self.rng.random
        eff_err: dict[str, float] = {}
        eff_lat: dict[str, float] = {}
        vals: list[float] = []
        emit = vals.append  # in the order of _layout_keys
        n_inst = sum(len(self.services[n].instances) for n in self.order)
        gauss = iter(self.np_rng.standard_normal(4 * n_inst + len(self.order)).tolist())

        for name in self.order:
            st = self.services[name]
            spec = st.spec
            bad = st.bad_versions
            if st.traffic_mult != 1.0 and now >= st.surge_until:
                st.traffic_mult = 1.0
                del st.instances[spec.replicas:]
            for inst in st.instances:
                if bad.get(inst.version) == "crash":
                    if rnd() < 0.5:
                        inst.restarts += 1
                        inst.down_until = now + 8
                if inst.memory_rate:
                    inst.memory += inst.memory_rate * dt
                    if inst.memory >= 1.0:  # OOM kill and restart
                        inst.restarts += 1
                        inst.memory = inst.base_memory
                        inst.down_until = now + 10
                inst.disk = min(1.0, inst.disk + inst.disk_rate * dt)
            serving = [i for i in st.instances if i.serving(now)]
            rps = spec.base_rps * self.diurnal(now) * st.traffic_mult
            dep_lat = sum(eff_lat[d] for d in spec.depends_on) * 0.5
            dep_ok = 1.0
            for d in spec.depends_on:
                dep_ok *= 1.0 - 0.9 * eff_err[d]
            per_inst = rps / max(len(serving), 1)
            sat = per_inst / spec.capacity_rps
            svc_err_num = 0.0
            svc_lat_num = 0.0
            for inst in st.instances:
                up = inst.serving(now)
                own_err = inst.own_errors
                if bad.get(inst.version) == "errors":
                    own_err = max(own_err, 0.3)
                if inst.disk >= 0.99:
                    own_err = max(own_err, 0.8)
                if spec.has_cert and now >= st.cert_expiry:
                    own_err = 1.0
                if sat > 1.0:
                    own_err = max(own_err, 1.0 - 1.0 / sat)
                lat = spec.latency_ms * inst.latency_factor * st.slow_factor
                lat *= 1.0 + max(0.0, sat - 0.85) * 8 + max(0.0, inst.memory - 0.85) * 12
                if inst.noise_until > now and int(now // 10) % 5 < 2:
                    lat *= 3.5
                err = 1.0 - (1.0 - own_err) * dep_ok
                lat_total = lat + dep_lat
                noise = 1.0 + 0.04 * next(gauss)
                err_obs = min(1.0, max(0.0, err + 0.002 * next(gauss)))
                if up:
                    svc_err_num += err * per_inst
                    svc_lat_num += lat_total * per_inst
                alive = inst.up and now >= inst.down_until
                # A drained instance is alive but gets no requests: no error or latency data.
                emit(1.0 if alive else 0.0)  # up
                emit(per_inst * noise if up else 0.0)  # requests_per_s
                emit(err_obs if up else (math.nan if alive else 1.0))  # error_ratio
                emit(lat_total * noise if up else math.nan)  # latency_p99_ms
                emit(min(sat, 2.0) if up else 0.0)  # saturation
                emit(inst.memory + 0.005 * next(gauss))  # memory_ratio
                emit(inst.disk + 0.001 * next(gauss))  # disk_used_ratio
                emit(float(inst.restarts))  # process_restarts_total
            served = per_inst * len(serving)
            st.errors = svc_err_num / served if serving else 1.0
            st.latency = svc_lat_num / served if serving else 5000.0
            eff_err[name] = st.errors
            eff_lat[name] = min(st.latency, 5000.0)
            if spec.has_cert:
                emit(st.cert_expiry - now)
            if spec.auth:
                emit(max(0.0, 2.0 + st.login_attack + 0.5 * next(gauss)))
            if spec.queue:
                st.queue_depth = st.queue_depth + 4.0 * dt if st.queue_stalled else \
                    max(20.0, st.queue_depth * 0.5) + 3 * rnd()
                emit(st.queue_depth)
            base_lat = self._base_lat[name]
            st.degraded = (st.errors > 0.02 or st.latency > 1.5 * base_lat or not serving
                           or st.queue_depth > 500
                           or (spec.has_cert and now >= st.cert_expiry))
        sig = tuple(tuple(i.name for i in self.services[n].instances) for n in self.order)
        if sig != self._key_sig:
            self._key_sig = sig
            self._keys = self._layout_keys()
        changes, self.pending_changes = self.pending_changes, []
        return MetricBatch(now, self._keys, np.array(vals, dtype=float)), changes

    _INSTANCE_METRICS = ("up", "requests_per_s", "error_ratio", "latency_p99_ms", "saturation",
                         "memory_ratio", "disk_used_ratio", "process_restarts_total")

    def _layout_keys(self) -> tuple[SeriesKey, ...]:
        """The series of one tick, in the order ``tick`` emits their values."""
        keys: list[SeriesKey] = []
        for name in self.order:
            st = self.services[name]
            for inst in st.instances:
                keys += (SeriesKey.of(m, service=name, instance=inst.name)
                         for m in self._INSTANCE_METRICS)
            spec = st.spec
            for metric, present in (("cert_expiry_seconds", spec.has_cert),
                                    ("auth_failed_logins_per_s", spec.auth),
                                    ("queue_depth", spec.queue)):
                if present:
                    keys.append(SeriesKey.of(metric, service=name))
        return tuple(keys)

    def _base_latency(self, name: str) -> float:
        spec = self.services[name].spec
        return spec.latency_ms + sum(self._base_latency(d) for d in spec.depends_on) * 0.5

    # ---- the control plane (what executors and humans call) --------------------------
    def deploy(self, service: str, now: float, *, effect: str = "") -> str:
        st = self.services[service]
        version = f"v{len(st.versions) + 1}"
        prev = st.versions[-1]
        st.versions.append(version)
        if effect:
            st.bad_versions[version] = effect
        for inst in st.instances:
            inst.version = version
            inst.down_until = now + 5
        self.pending_changes.append(ChangeEvent(now, service, "deploy", version, prev, "ci"))
        return version

    def rollback(self, service: str, now: float) -> bool:
        st = self.services[service]
        if len(st.versions) < 2:
            return False
        prev = st.versions[-2]
        st.versions.pop()
        for inst in st.instances:
            inst.version = prev
            inst.down_until = now + 5
            inst.memory = inst.base_memory
        self.pending_changes.append(ChangeEvent(now, service, "rollback", prev, "", "healops"))
        return True

    def restart(self, name: str, now: float) -> bool:
        found = self.instance(name)
        if found is None:
            st = self.services.get(name)
            if st is None:
                return False
            for inst in st.instances:
                self._restart(st, inst, now)
            return True
        self._restart(*found, now)
        return True

    def _restart(self, st: ServiceState, inst: InstanceState, now: float) -> None:
        inst.restarts += 1
        inst.memory = inst.base_memory
        inst.memory_rate = 0.0  # the leak's trigger does not survive a restart
        inst.down_until = now + (30 if st.spec.stateful else 8)
        inst.noise_until = 0.0

    def scale(self, service: str, delta: int, now: float) -> bool:
        st = self.services[service]
        if delta > 0:
            for _ in range(delta):
                self._new_instance(st, now).down_until = now + 10
        else:
            for _ in range(min(-delta, len(st.instances) - 1)):
                st.instances.pop()
        return True

    def drain(self, name: str, enable: bool = False) -> bool:
        found = self.instance(name)
        if found is None:
            return False
        found[1].drained = not enable
        return True

    def replace(self, name: str, now: float) -> bool:
        found = self.instance(name)
        if found is None:
            return False
        st, inst = found
        st.instances.remove(inst)
        self._new_instance(st, now).down_until = now + 10
        return True

    def renew_cert(self, service: str, now: float) -> bool:
        st = self.services[service]
        if not st.spec.has_cert:
            return False
        st.cert_expiry = now + 90 * DAY
        return True

    def clean_disk(self, name: str) -> bool:
        found = self.instance(name)
        if found is None:
            return False
        inst = found[1]
        inst.disk = 0.35
        inst.disk_rate = 0.0
        return True

    def failover(self, service: str, now: float) -> bool:
        st = self.services[service]
        if not st.spec.stateful:
            return False
        st.slow_factor = 1.0
        for inst in st.instances:
            inst.down_until = now + 5
        return True
