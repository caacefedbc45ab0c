"""healops.bench.rca.main on tiny generated data sets in both layouts, and synthetic cases."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from healops.bench import rca

SERVICES = ("frontend", "cartservice", "paymentservice", "adservice", "emailservice")
CALLS = (("frontend", "cartservice"), ("frontend", "adservice"),
         ("cartservice", "paymentservice"), ("frontend", "emailservice"))


def run_json(capsys: pytest.CaptureFixture[str], **kwargs: object) -> dict[str, object]:
    args: dict[str, object] = {"data": None, "synthetic": False, "cases": 0, "seed": 0}
    args.update(kwargs)
    assert rca.main(as_json=True, **args) == 0  # type: ignore[arg-type]
    out: dict[str, object] = json.loads(capsys.readouterr().out)
    return out


def check_shape(report: dict[str, object], cases: int) -> None:
    assert report["cases"] == cases
    for block in (report["overall"], report["baro"]["overall"]):  # type: ignore[index]
        assert set(block) == {"AC@1", "AC@3", "Avg@5"}
        assert all(0.0 <= v <= 1.0 for v in block.values())
    assert set(report["baro"]) == {"overall", "by_fault"}  # type: ignore[arg-type]
    for measures in report["by_fault"].values():  # type: ignore[attr-defined]
        assert set(measures) == {"cases", "AC@1", "AC@3", "Avg@5"}


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)


def make_sockshop(root: Path, rng: np.random.Generator) -> int:
    svcs = ("carts", "orders", "user-db")
    header = ["time"] + [f"{s}_{m}" for m in ("cpu", "mem") for s in svcs]
    count = 0
    for svc in svcs:
        for fault in ("cpu", "mem"):
            for rep in (1, 2):
                case = root / "sock-shop-data" / f"{svc}-{fault}" / str(rep)
                for name, faulty in (("normal.csv", False), ("anomalous.csv", True)):
                    rows: list[list[object]] = []
                    for t in range(60):
                        row: list[object] = [1_600_000_000 + t]
                        for m in ("cpu", "mem"):
                            for s in svcs:
                                level = 10.0 if m == "cpu" else 3e8
                                value = level * (1 + rng.normal(0, 0.03))
                                if faulty and s == svc and m == fault and t >= 5:
                                    value *= 3.0
                                row.append(value)
                        rows.append(row)
                    write_csv(case / name, header, rows)
                count += 1
    return count


def pod(svc: str) -> str:
    return f"{svc}-5f6585d649-fnmft"


def make_nezha(root: Path, rng: np.random.Generator) -> int:
    day = "2022-01-02"
    start = datetime(2022, 1, 2, 10, 0, tzinfo=UTC).timestamp()
    faults = [(SERVICES[i % len(SERVICES)], 12 + 10 * i) for i in range(5)]
    minutes = 12 + 10 * len(faults) + 5
    stamps = [start + 60 * m + 20 for m in range(minutes)]

    def faulty(svc: str, ts: float) -> bool:
        return any(f == svc and 1 <= (ts - (start + 60 * at)) / 60 < 4 for f, at in faults)

    cols = ["CpuUsageRate(%)", "MemoryUsage(Mi)", "PodServerLatencyP90(s)",
            "NodeCpuUsageRate(%)"]
    metric_dir = root / day / "metric"
    for svc in SERVICES:
        rows: list[list[object]] = []
        for ts in stamps:
            bad = faulty(svc, ts)
            callee_bad = any(faulty(c, ts) for a, c in CALLS if a == svc)
            cpu = 20 * (1 + rng.normal(0, 0.05)) * (4 if bad else 1)
            lat = 0.05 * (1 + rng.normal(0, 0.05)) * (3 if bad else 1) * (6 if callee_bad else 1)
            rows.append([f"{datetime.fromtimestamp(ts, UTC)} +0000 UTC", int(ts), pod(svc), cpu,
                         100 * (1 + rng.normal(0, 0.01)), lat, 50.0])
        write_csv(metric_dir / f"{pod(svc)}_metric.csv", ["Time", "TimeStamp", "PodName", *cols],
                  rows)
    edge_rows: list[list[object]] = []
    for ts in stamps:
        edge_rows.append([str(ts), int(ts), *(
            0.01 * (1 + rng.normal(0, 0.05)) * (5 if faulty(c, ts) else 1) for _, c in CALLS)])
    write_csv(metric_dir / "source_50.csv", ["time", "timestamp", *(f"{a}_{c}" for a, c in CALLS)],
              edge_rows)
    listing = {"10": [{
        "inject_time": datetime.fromtimestamp(start + 60 * at + 10, UTC).strftime(
            "%Y-%m-%d %H:%M:%S"),
        "inject_timestamp": "0",  # deliberately wrong: inject_time is the one to use
        "inject_pod": pod(svc),
        "inject_type": "cpu_contention",
    } for svc, at in faults]}
    (root / day / f"{day}-fault_list.json").write_text(json.dumps(listing))
    return len(faults)


def test_sockshop_layout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    n = make_sockshop(tmp_path, np.random.default_rng(1))
    assert rca.detect_layout(tmp_path) == "sockshop"
    report = run_json(capsys, data=tmp_path)
    check_shape(report, n)
    assert set(report["by_fault"]) == {"cpu", "memory"}  # type: ignore[arg-type]
    assert report["overall"]["AC@1"] > 1 / 3  # type: ignore[index]


def test_nezha_layout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    n = make_nezha(tmp_path, np.random.default_rng(2))
    assert rca.detect_layout(tmp_path) == "nezha"
    cases = rca.load_nezha(tmp_path)
    assert [c.root for c in cases] == list(SERVICES)
    assert all(c.topology is None for c in cases)  # the ranking reads calls from metrics
    assert not any(m.startswith("Node") for c in cases for _, m in c.after.series)
    report = run_json(capsys, data=tmp_path)
    check_shape(report, n)
    assert report["overall"]["AC@1"] > 1 / len(SERVICES)  # type: ignore[index]


def write_front(metric_dir: Path, name: str, success: list[float]) -> None:
    stamps = [1_641_117_620 + 60 * m for m in range(len(success))]
    write_csv(metric_dir / "front_service.csv",
              ["Time", "TimeStamp", "ServiceName", "SuccessRate(%)", "LatencyP90(s)"],
              [[str(t), t, name, ok, 0.5] for t, ok in zip(stamps, success, strict=True)])


def test_the_entry_slis_are_keyed_under_the_service_they_name(tmp_path: Path) -> None:
    make_nezha(tmp_path, np.random.default_rng(3))
    metric_dir = tmp_path / "2022-01-02" / "metric"
    write_front(metric_dir, "Frontend", [100.0] * 60)
    keys = set(rca.load_nezha(tmp_path)[0].after.series)
    assert {("frontend", "EntrySuccessRate(%)"), ("frontend", "EntryLatencyP90(s)")} <= keys
    write_front(metric_dir, "Gateway", [100.0] * 60)  # names no service: not guessed
    keys = set(rca.load_nezha(tmp_path)[0].after.series)
    assert not any(metric.startswith("Entry") for _, metric in keys)


def test_synthetic_mode(capsys: pytest.CaptureFixture[str]) -> None:
    report = run_json(capsys, synthetic=True, cases=12, seed=5)
    check_shape(report, 12)
    assert report["overall"]["AC@3"] > 3 / 20  # type: ignore[index]
    # every synthetic run also times one diagnosis over 100 services against BARO
    timing = report["speed"]
    assert timing["services"] == 100 and timing["series"] == 400  # type: ignore[index]
    assert timing["ms_per_diagnosis"] > 0 and timing["ratio_to_baro"] > 0  # type: ignore[index]


def test_table_output_and_bad_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert rca.main(None, True, 3, 1, False) == 0
    out = capsys.readouterr().out
    assert "AC@1" in out and "one diagnosis over 100 services" in out
    assert rca.main(None, False, 0, 0, False) == 2
    with pytest.raises(ValueError, match="layout"):
        rca.main(tmp_path, False, 0, 0, False)


def test_pod_names_map_to_services() -> None:
    assert rca.pod_service("productcatalogservice-668d5f85fb-jhwx9") == "productcatalogservice"
    assert rca.pod_service("carts-db") == "carts-db"


def test_speed_reports_a_ratio_to_baro(capsys: pytest.CaptureFixture[str]) -> None:
    result = rca.speed(services=10, repeats=1)
    assert result["ratio_to_baro"] > 0
    assert "ms_per_diagnosis" in json.loads(capsys.readouterr().out)
