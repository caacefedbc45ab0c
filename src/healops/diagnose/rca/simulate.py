"""A seeded structural causal model of a microservice estate, for benchmarks and tests.

Like the CIRCA and PyRCA simulators: a random call DAG, every service has CPU, memory,
latency and error series, latency and errors propagate from callees to callers (linearly
or not, one sample per hop), and one fault is injected into one service. A caller takes
the weighted mean of its callees' excess and the non-linear transfer is a power of the
excess in units of the baseline, so symptoms stay bounded however deep the graph.

>>> case = simulate_case(services=6, seed=3)
>>> case.root in case.topology, len(case.before), len(case.after), case.fault in SIM_FAULTS
(True, 60, 20, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from healops.diagnose.rca.frame import FloatArray, MetricFrame, MetricKey
from healops.diagnose.rca.kinds import FaultKind
from healops.domain.topology import Service, Topology

__all__ = ["SIM_FAULTS", "SimulatedCase", "simulate_case"]

SIM_FAULTS: tuple[FaultKind, ...] = ("cpu", "memory", "latency", "errors")


@dataclass(frozen=True)
class SimulatedCase:
    before: MetricFrame
    after: MetricFrame
    topology: Topology
    root: str
    fault: FaultKind


def _dag(n: int, rng: np.random.Generator, edge_prob: float) -> list[list[int]]:
    """callees[i] for services 0..n-1; edges go from lower to higher index."""
    callees: list[list[int]] = [[] for _ in range(n)]
    for j in range(1, n):
        callees[int(rng.integers(0, j))].append(j)  # every service has a caller
        for i in range(j):
            if j not in callees[i] and rng.random() < edge_prob:
                callees[i].append(j)
    return callees


def simulate_case(
    *,
    services: int = 20,
    seed: int | np.random.Generator = 0,
    edge_prob: float | None = None,
    nonlinear: bool | None = None,
    n_before: int = 60,
    n_after: int = 20,
) -> SimulatedCase:
    """One fault on one service; ``nonlinear`` and ``edge_prob`` are drawn when None."""
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    n = max(2, services)
    p = float(edge_prob) if edge_prob is not None else min(0.5, 2.0 / n)
    nl = bool(rng.random() < 0.5) if nonlinear is None else nonlinear
    callees = _dag(n, rng, p)
    names = [f"svc{i:03d}" for i in range(n)]
    total = n_before + n_after
    root = int(rng.integers(0, n))
    fault = SIM_FAULTS[int(rng.integers(0, len(SIM_FAULTS)))]
    start = n_before + int(rng.integers(0, max(1, n_after // 4)))
    active = (np.arange(total) >= start).astype(np.float64)
    # faults are large against the level, as real ones are: +50 % to +200 %
    magnitude = float(rng.uniform(0.5, 2.0))

    def noise(sd: float) -> FloatArray:
        return rng.normal(0.0, sd, total)

    def lag(x: FloatArray) -> FloatArray:
        return np.concatenate(([x[0]], x[:-1]))

    def transfer(x: FloatArray) -> FloatArray:
        # convex in units of the 10 ms baseline: a power of raw milliseconds would
        # compound down a call chain into astronomically large latencies
        return 10.0 * np.sign(x) * (np.abs(x) / 10.0) ** 1.5 if nl else x

    lat: dict[int, FloatArray] = {}
    err: dict[int, FloatArray] = {}
    series: dict[MetricKey, FloatArray] = {}
    for i in reversed(range(n)):  # callees (higher index) first
        sd = float(rng.lognormal(0.0, 0.5))
        is_root = i == root
        cpu_fault = magnitude * active if (is_root and fault == "cpu") else 0.0
        cpu = 40.0 * (1.0 + cpu_fault) + noise(2.0 * sd)
        # a leak grows over the window up to ``magnitude`` times the level
        mem_fault = (
            magnitude * np.cumsum(active) / n_after if (is_root and fault == "memory") else 0.0
        )
        mem = 500.0 * (1.0 + mem_fault) + noise(5.0 * sd)
        own_lat = 10.0 * (1.0 + 0.5 * cpu_fault + 0.2 * mem_fault) + noise(sd)
        if is_root and fault == "latency":
            own_lat = own_lat + 10.0 * magnitude * active
        own_err = np.abs(noise(0.2 * sd))
        if is_root and fault == "errors":
            own_err = own_err + 5.0 * magnitude * active
        down_lat = np.zeros(total)
        down_err = np.zeros(total)
        for j in callees[i]:
            w = float(rng.uniform(0.5, 1.5))
            down_lat += w * transfer(lag(lat[j] - 10.0))
            down_err += w * transfer(lag(err[j]))
        # averaged over the callees: summed, the excess of one deep service would be
        # counted once per path and grow geometrically with the depth of the graph
        fan = max(1, len(callees[i]))
        lat[i] = own_lat + down_lat / fan
        err[i] = own_err + 0.8 * down_err / fan
        series[(names[i], "cpu")] = cpu
        series[(names[i], "mem")] = mem
        series[(names[i], "latency")] = lat[i]
        series[(names[i], "error_rate")] = err[i]
    before = MetricFrame.build({k: v[:n_before] for k, v in series.items()})
    after = MetricFrame.build({k: v[n_before:] for k, v in series.items()}, start=n_before)
    topology = Topology.build(
        Service(names[i], depends_on=tuple(names[j] for j in sorted(callees[i])))
        for i in range(n)
    )
    return SimulatedCase(before, after, topology, names[root], fault)
