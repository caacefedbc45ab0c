"""The throughput benchmark's shape (no timed assertions: speed belongs to the benchmark)."""

from __future__ import annotations

import json

import pytest

from healops.bench.detect_speed import main, measure


def test_measure_reports_every_figure() -> None:
    r = measure(series=20, ticks=5, river_samples=20)
    assert r.series == 20 and r.ticks == 5
    assert r.samples_per_s > 0 and r.river_hst_samples_per_s > 0
    assert r.ratio_vs_river == pytest.approx(r.samples_per_s / r.river_hst_samples_per_s)
    assert 0 < r.bytes_per_series <= 2048


def test_main_prints_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(series=10, as_json=True) == 0
    report = json.loads(capsys.readouterr().out)
    for key in ("samples_per_s", "bytes_per_series", "river_hst_samples_per_s",
                "ratio_vs_river"):
        assert key in report


def test_main_rejects_no_series() -> None:
    assert main(series=0, as_json=True) == 2
