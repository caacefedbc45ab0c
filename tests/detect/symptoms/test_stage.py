"""The symptom stage: a vanished series stops holding its symptom."""

from __future__ import annotations

import numpy as np

from healops.config.models import SymptomRule
from healops.detect.symptoms import SymptomDetector
from healops.domain.signals import MetricBatch, SeriesKey

RULE = SymptomRule(metric="error_ratio", kind="errors", threshold=0.05, for_s=10, clear_s=20)
A = SeriesKey.of("error_ratio", service="auth", instance="auth-1")
B = SeriesKey.of("error_ratio", service="auth", instance="auth-2")


def _run(det: SymptomDetector, keys: tuple[SeriesKey, ...], values: list[float],
         times: range) -> tuple[list[str], list[str]]:
    fired: list[str] = []
    cleared: list[str] = []
    for t in times:
        up = det.observe(MetricBatch(float(t), keys, np.array(values)))
        fired += [a.key.instance for a in up.fired]
        cleared += [a.key.instance for a in up.cleared]
    return fired, cleared


def test_a_replaced_instance_clears_after_the_staleness_window() -> None:
    det = SymptomDetector([RULE], warmup_s=0, halflife_s=60, stale_s=300)
    fired, _ = _run(det, (A, B), [0.5, 0.0], range(0, 60, 10))
    assert fired == ["auth-1"]
    # auth-1 is replaced: only auth-2 reports from now on.
    _, cleared = _run(det, (B,), [0.0], range(60, 300, 10))
    assert cleared == []  # not yet stale: a scrape gap is not a recovery
    _, cleared = _run(det, (B,), [0.0], range(300, 420, 10))
    assert cleared == ["auth-1"]


def test_a_series_that_keeps_reporting_never_goes_stale() -> None:
    det = SymptomDetector([RULE], warmup_s=0, halflife_s=60, stale_s=30)
    fired, cleared = _run(det, (A,), [0.5], range(0, 400, 10))
    assert fired == ["auth-1"] and cleared == []


def test_increase_holds_through_a_crash_loop_and_clears_after_it() -> None:
    rule = SymptomRule(metric="process_restarts_total", kind="restarts", transform="increase",
                       window_s=300, threshold=0.5, clear_s=30)
    det = SymptomDetector([rule], warmup_s=0, halflife_s=60)
    key = (SeriesKey.of("process_restarts_total", service="cache", instance="cache-1"),)
    restarts = 0.0
    held: list[float] = []
    cleared_at: list[int] = []
    for t in range(0, 2400, 10):
        if t in (100, 200, 360, 600):  # back-off: restarts further and further apart
            restarts += 1
        up = det.observe(MetricBatch(float(t), key, np.array([restarts])))
        held += [a.held_s for a in up.firing if 100 < t < 600]
        cleared_at += [t for _ in up.cleared]
    # Between restarts the symptom keeps holding, so settle times see one long symptom.
    assert held and min(held) >= 0 and max(held) >= 400
    assert len(cleared_at) == 1 and 600 + 150 < cleared_at[0] < 600 + 2 * 300


def test_increase_reads_a_counter_reset_as_a_restart_not_a_drop() -> None:
    rule = SymptomRule(metric="restarts", kind="restarts", transform="increase",
                       window_s=300, threshold=0.5)
    det = SymptomDetector([rule], warmup_s=0, halflife_s=60)
    key = (SeriesKey.of("restarts", service="a", instance="a-1"),)
    fired = [len(det.observe(MetricBatch(float(t), key, np.array([v]))).fired)
             for t, v in ((0, 5.0), (10, 5.0), (20, 1.0))]
    assert fired == [0, 0, 1]
