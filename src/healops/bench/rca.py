"""Root-cause ranking benchmark: AC@1, AC@3 and Avg@5 against a BARO baseline.

``healops bench rca --data DIR`` reads the cases of one data set (the layout of Sock Shop 1
or of Nezha is recognised from the folder), hides the labels from the ranking, and scores
both rankings in the same run. ``--synthetic`` draws cases from the structural causal
model in :mod:`healops.diagnose.rca.simulate`, and also times one diagnosis over 100
services against BARO in the same run (the issue's 50 ms budget).

Windows are the same for every case: Sock Shop gives them (``normal.csv`` before,
``anomalous.csv`` after); for Nezha, the ``NEZHA_BEFORE`` minutes before ``inject_time``
and the ``NEZHA_AFTER`` minutes from it, on a one-minute grid.
"""

from __future__ import annotations

import csv
import json
import math
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import numpy as np

from healops.diagnose.rca.baro import baro_rank
from healops.diagnose.rca.frame import FloatArray, MetricFrame, MetricKey
from healops.diagnose.rca.kinds import call_metric
from healops.diagnose.rca.rank import rank_root_causes
from healops.diagnose.rca.simulate import simulate_case
from healops.domain.topology import Topology

__all__ = [
    "RcaCase",
    "detect_layout",
    "load_cases",
    "load_nezha",
    "load_sockshop",
    "main",
    "measure_speed",
    "pod_service",
    "score_ranks",
    "speed",
    "synthetic_cases",
]

NEZHA_BEFORE = 4  # minutes of baseline: faults come ~8 minutes apart and last up to 5
NEZHA_AFTER = 5  # minutes scored from inject_time
NEZHA_STEP = 60.0
SPEED_SERVICES = 100  # the budget: one incident over 100 services in 50 ms
# Node-wide series are shared by every pod of a node: they cannot tell services apart.
_NODE_METRICS = re.compile(r"^Node", re.I)
_POD_SUFFIX = re.compile(r"-[0-9a-z]{6,10}-[0-9a-z]{5}$|-\d+$")  # Deployment or StatefulSet pod

Layout = Literal["sockshop", "nezha"]


@dataclass(frozen=True)
class RcaCase:
    """One fault: what the ranking sees (frames, topology) and the hidden label."""

    name: str
    before: MetricFrame
    after: MetricFrame
    topology: Topology | None
    root: str  # label: never shown to a ranking
    fault: str  # label


def pod_service(pod: str) -> str:
    """The service of a pod: its name without the replica-set hash and pod suffix.

    >>> pod_service("cartservice-579f59597d-wc2lz"), pod_service("user-db-0")
    ('cartservice', 'user-db')
    """
    return _POD_SUFFIX.sub("", pod)


def _num(text: str | None) -> float:
    try:
        return float(text) if text not in (None, "") else math.nan
    except ValueError:
        return math.nan


# ---------------------------------------------------------------- layouts and loaders


def detect_layout(path: Path) -> Layout:
    if any(path.glob("*/*-fault_list.json")) or any(path.glob("*-fault_list.json")):
        return "nezha"
    if any(path.rglob("anomalous.csv")):
        return "sockshop"
    raise ValueError(f"{path}: neither a Sock Shop (*/N/anomalous.csv) nor a Nezha "
                     "(<day>/<day>-fault_list.json) layout")


def _read_columns(path: Path) -> dict[str, list[str]]:
    with path.open(newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, [])
        cols: dict[str, list[str]] = {h: [] for h in header}
        for row in reader:
            for h, v in zip(header, row, strict=False):
                cols[h].append(v)
    return cols


def _sockshop_frame(path: Path) -> MetricFrame:
    cols = _read_columns(path)
    series: dict[MetricKey, list[float]] = {}
    for name, values in cols.items():
        svc, sep, metric = name.partition("_")
        if name == "time" or not sep:
            continue
        series[(svc, metric)] = [_num(v) for v in values]
    times = [_num(v) for v in cols.get("time", [])]
    start = times[0] if times else 0.0
    return MetricFrame.build(series, start=start, step=1.0)


def load_sockshop(path: Path) -> list[RcaCase]:
    """``<service>-<cpu|mem>/<n>/{normal,anomalous}.csv``: the label is the folder name."""
    cases = []
    for anomalous in sorted(path.rglob("anomalous.csv")):
        case_dir = anomalous.parent
        label = case_dir.parent.name
        root, _, fault = label.rpartition("-")
        cases.append(RcaCase(
            name=f"{label}/{case_dir.name}",
            before=_sockshop_frame(case_dir / "normal.csv"),
            after=_sockshop_frame(anomalous),
            topology=None,
            root=root,
            fault={"mem": "memory"}.get(fault, fault),
        ))
    return cases


@dataclass(frozen=True)
class _Timed:
    times: FloatArray
    values: FloatArray


def _nezha_day(metric_dir: Path) -> dict[MetricKey, _Timed]:
    """Every series of one day, with its own timestamps."""
    out: dict[MetricKey, _Timed] = {}
    pods = sorted(metric_dir.glob("*_metric.csv"))
    services = {pod_service(p.name[: -len("_metric.csv")]) for p in pods}
    for p in pods:
        cols = _read_columns(p)
        svc = pod_service(p.name[: -len("_metric.csv")])
        t = np.array([_num(v) for v in cols.pop("TimeStamp", [])])
        for name, values in cols.items():
            if name in ("Time", "PodName") or _NODE_METRICS.match(name):
                continue
            out[(svc, name)] = _Timed(t, np.array([_num(v) for v in values]))
    out.update(_entry_series(metric_dir / "front_service.csv", services))
    # per-call latency, measured at the caller (source) and the callee (destination)
    for side in ("source", "destination"):
        for p in sorted(metric_dir.glob(f"{side}_*.csv")):
            cols = _read_columns(p)
            t = np.array([_num(v) for v in cols.pop("timestamp", [])])
            cols.pop("time", None)
            for name, values in cols.items():
                edge = _split_edge(name, services)
                if edge is not None:
                    caller, callee = edge
                    metric = call_metric(caller, f"latency_{side}_{p.stem.split('_')[-1]}")
                    out[(callee, metric)] = _Timed(t, np.array([_num(v) for v in values]))
    return out


def _entry_series(path: Path, services: set[str]) -> dict[MetricKey, _Timed]:
    """The entry point's own SLIs (success rate, latency), keyed under its service.

    ``front_service.csv`` names the entry ("Frontend"); a name that matches no service
    is left out rather than guessed.
    """
    if not path.exists():
        return {}
    cols = _read_columns(path)
    names = {n.lower() for n in cols.pop("ServiceName", [])}
    svc = next((s for s in services if s.lower() in names), None)
    if svc is None or len(names) != 1:
        return {}
    t = np.array([_num(v) for v in cols.pop("TimeStamp", [])])
    cols.pop("Time", None)
    return {(svc, f"Entry{name}"): _Timed(t, np.array([_num(v) for v in values]))
            for name, values in cols.items()}


def _split_edge(name: str, services: set[str]) -> tuple[str, str] | None:
    for i, ch in enumerate(name):
        if ch == "_" and name[:i] in services and name[i + 1:] in services:
            return name[:i], name[i + 1:]
    return None


def _window(day: dict[MetricKey, _Timed], t0: float, first: int, count: int) -> MetricFrame:
    """Samples in minute bins ``first .. first+count-1`` relative to ``t0``."""
    series: dict[MetricKey, FloatArray] = {}
    for key, s in day.items():
        grid = np.full(count, np.nan)
        bins = np.floor((s.times - t0) / NEZHA_STEP).astype(np.int64) - first
        ok = (bins >= 0) & (bins < count) & np.isfinite(s.values)
        grid[bins[ok]] = s.values[ok]
        series[key] = grid
    return MetricFrame.build(series, start=t0 + first * NEZHA_STEP, step=NEZHA_STEP)


def load_nezha(path: Path) -> list[RcaCase]:
    """``<day>/metric/*.csv`` with ``<day>/<day>-fault_list.json`` labels."""
    cases = []
    for fault_list in sorted(path.glob("*/*-fault_list.json")):
        day_dir = fault_list.parent
        day = _nezha_day(day_dir / "metric")
        faults = json.loads(fault_list.read_text())
        for hour in sorted(faults):
            for f in faults[hour]:
                t0 = datetime.strptime(f["inject_time"], "%Y-%m-%d %H:%M:%S").replace(
                    tzinfo=UTC).timestamp()
                cases.append(RcaCase(
                    name=f"{day_dir.name} {f['inject_time']}",
                    before=_window(day, t0, -NEZHA_BEFORE, NEZHA_BEFORE),
                    after=_window(day, t0, 0, NEZHA_AFTER),
                    topology=None,  # the ranking infers call edges from call metrics
                    root=pod_service(f["inject_pod"]),
                    fault=str(f["inject_type"]),
                ))
    return cases


def load_cases(path: Path) -> list[RcaCase]:
    return load_nezha(path) if detect_layout(path) == "nezha" else load_sockshop(path)


def synthetic_cases(count: int, seed: int, *, services: int = 20) -> list[RcaCase]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        sim = simulate_case(services=services, seed=rng)
        out.append(RcaCase(f"synthetic-{i}", sim.before, sim.after, sim.topology,
                           sim.root, sim.fault))
    return out


# ------------------------------------------------------------------------ scoring


Ranker = Callable[[RcaCase], list[str]]


def ours(case: RcaCase) -> list[str]:
    return [c.service for c in rank_root_causes(case.before, case.after, case.topology)]


def baro(case: RcaCase) -> list[str]:
    return [svc for svc, _, _ in baro_rank(case.before, case.after)]


def _position(ranking: Sequence[str], root: str) -> int | None:
    return ranking.index(root) + 1 if root in ranking else None


def _measures(positions: Sequence[int | None]) -> dict[str, float]:
    n = max(1, len(positions))
    ac = [sum(1 for p in positions if p is not None and p <= k) / n for k in range(1, 6)]
    return {"AC@1": ac[0], "AC@3": ac[2], "Avg@5": sum(ac) / 5}


def score_ranks(cases: Sequence[RcaCase], ranker: Ranker) -> dict[str, object]:
    """AC@1, AC@3 and Avg@5 overall and per fault type."""
    positions = [_position(ranker(c), c.root) for c in cases]
    by_fault: dict[str, list[int | None]] = {}
    for c, p in zip(cases, positions, strict=True):
        by_fault.setdefault(c.fault, []).append(p)
    return {
        "overall": _measures(positions),
        "by_fault": {f: {"cases": len(ps), **_measures(ps)} for f, ps in sorted(by_fault.items())},
        "positions": positions,
    }


def _report(cases: Sequence[RcaCase]) -> dict[str, object]:
    mine = score_ranks(cases, ours)
    base = score_ranks(cases, baro)
    return {
        "cases": len(cases),
        "overall": mine["overall"],
        "by_fault": mine["by_fault"],
        "baro": {"overall": base["overall"], "by_fault": base["by_fault"]},
    }


def _print_table(title: str, report: dict[str, object]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for col in ("fault", "cases", "AC@1", "AC@3", "Avg@5", "BARO AC@1", "BARO AC@3",
                "BARO Avg@5"):
        table.add_column(col, justify="left" if col == "fault" else "right")
    base = report["baro"]
    assert isinstance(base, dict)
    rows: list[tuple[str, int, dict[str, float], dict[str, float]]] = [
        ("all", int(str(report["cases"])), _as_measures(report["overall"]),
         _as_measures(base["overall"])),
    ]
    by_fault = report["by_fault"]
    assert isinstance(by_fault, dict)
    for fault, m in by_fault.items():
        b = _as_measures(base["by_fault"][fault])
        rows.append((fault, int(m["cases"]), _as_measures(m), b))
    for fault, n, m, b in rows:
        table.add_row(fault, str(n), *(f"{m[k]:.3f}" for k in ("AC@1", "AC@3", "Avg@5")),
                      *(f"{b[k]:.3f}" for k in ("AC@1", "AC@3", "Avg@5")))
    Console().print(table)


def _as_measures(value: object) -> dict[str, float]:
    assert isinstance(value, dict)
    return {k: float(value[k]) for k in ("AC@1", "AC@3", "Avg@5")}


def main(data: Path | None, synthetic: bool, cases: int, seed: int, as_json: bool) -> int:
    """Score the ranking and BARO on one data set or on synthetic cases; 0 on success."""
    if synthetic:
        loaded = synthetic_cases(cases, seed)
        title = f"RCA, {cases} synthetic cases (seed {seed})"
    elif data is not None:
        loaded = load_cases(data)
        title = f"RCA, {data.name}: {len(loaded)} cases"
    else:
        print("give --data DIR or --synthetic")
        return 2
    if not loaded:
        print(f"no cases found in {data}")
        return 1
    report = _report(loaded)
    if synthetic:
        # the latency budget is per incident over 100 services: measured in every run
        report["speed"] = measure_speed(SPEED_SERVICES, repeats=5)
    if as_json:
        print(json.dumps(report, sort_keys=True))
    else:
        _print_table(title, report)
        if synthetic:
            timing = report["speed"]
            assert isinstance(timing, dict)
            print(f"one diagnosis over {SPEED_SERVICES} services ({timing['series']:.0f} "
                  f"series): {timing['ms_per_diagnosis']:.1f} ms, BARO "
                  f"{timing['baro_ms']:.1f} ms in the same run "
                  f"(x{timing['ratio_to_baro']:.1f})")
    return 0


# ------------------------------------------------------------------------ speed


def _time_per_call(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm-up
    best = math.inf
    for _ in range(3):
        t = time.perf_counter()
        for _ in range(repeats):
            fn()
        best = min(best, (time.perf_counter() - t) / repeats)
    return best


def measure_speed(services: int = 100, repeats: int = 20, seed: int = 7) -> dict[str, float]:
    """Time one diagnosis over ``services`` services, as a ratio to BARO in the same run."""
    sim = simulate_case(services=services, seed=seed)
    ours_s = _time_per_call(lambda: rank_root_causes(sim.before, sim.after, sim.topology),
                            repeats)
    baro_s = _time_per_call(lambda: baro_rank(sim.before, sim.after), repeats)
    return {
        "services": float(services),
        "series": float(len(sim.after.series)),
        "ms_per_diagnosis": ours_s * 1e3,
        "baro_ms": baro_s * 1e3,
        "ratio_to_baro": ours_s / baro_s,
    }


def speed(services: int = 100, repeats: int = 20, seed: int = 7) -> dict[str, float]:
    """:func:`measure_speed`, printed as one JSON line."""
    result = measure_speed(services, repeats, seed)
    print(json.dumps(result))
    return result
