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
