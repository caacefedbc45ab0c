"""The symptom stage: staleness, counters, and zscore rules on the ensemble bank."""

from __future__ import annotations

import pickle

import numpy as np

from healops.config.load import default_config
from healops.config.models import DetectionConfig, SymptomRule
from healops.detect.symptoms import SymptomDetector
from healops.domain.signals import Anomaly, MetricBatch, SeriesKey

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


LATENCY = SymptomRule(metric="latency_p99_ms", kind="latency", transform="zscore",
                      threshold=6, min_ratio=1.5, for_s=10, clear_s=20)


def _series(det: SymptomDetector, values: np.ndarray, t0: int = 0,
            metric: str = "latency_p99_ms") -> list[tuple[int, str, Anomaly]]:
    """Every fired, firing and cleared anomaly, with its time, one sample every 10 s."""
    key = (SeriesKey.of(metric, service="api", instance="api-1"),)
    out: list[tuple[int, str, Anomaly]] = []
    for i, v in enumerate(values):
        t = t0 + 10 * i
        up = det.observe(MetricBatch(float(t), key, np.array([v])))
        out += [(t, "fired", a) for a in up.fired] + [(t, "firing", a) for a in up.firing]
        out += [(t, "cleared", a) for a in up.cleared]
    return out


def _normal(n: int, seed: int = 2) -> np.ndarray:
    return 100.0 * (1.0 + 0.04 * np.random.default_rng(seed).standard_normal(n))


def test_zscore_rules_learn_their_baseline_in_the_ensemble_bank_by_default() -> None:
    det = SymptomDetector([LATENCY], warmup_s=600, halflife_s=3600)
    ev = _series(det, np.r_[_normal(200), 3.0 * _normal(360, seed=3), _normal(30, seed=4)])
    fired = [(t, a) for t, what, a in ev if what == "fired"]
    cleared = [t for t, what, _ in ev if what == "cleared"]
    # A latency step at t=2000 fires after for_s, holds for the whole hour without a break
    # (the bank is not taught the incident, so it never becomes the new normal) and
    # clears clear_s after it ends at t=5600.
    assert [t for t, _ in fired] == [2010]
    holding = [a for t, what, a in ev if what == "firing" and a.held_s >= 0]
    assert len(holding) == 359 and holding[-1].held_s == 3590.0  # never a break
    assert all(abs(a.baseline - 100.0) < 2.0 for a in holding)
    assert cleared == [5620]
    extra = dict(fired[0][1].extra)
    assert extra["zscore"] > 6 and extra["surprise"] > 0.5


def test_a_drop_to_zero_does_not_deafen_the_rule_to_the_surge_after_it() -> None:
    # An instance restarts: its request rate reads 0 for 100 s. A drop does not break a
    # ">" rule, so the baseline learns it, but clipped to the rule's band; unclipped, its
    # squares would swell the spread until a surge 2x the normal rate no longer counted.
    rule = SymptomRule(metric="requests_per_s", kind="traffic", transform="zscore",
                       threshold=6, min_ratio=1.8, for_s=10, clear_s=60)
    values = np.r_[_normal(200), np.zeros(10), _normal(20, seed=3), 2.0 * _normal(10, seed=4)]
    for baseline in ("ensemble", "ewma"):
        det = SymptomDetector([rule.model_copy(update={"baseline": baseline})],
                              warmup_s=600, halflife_s=3600)
        events = _series(det, values, metric="requests_per_s")
        # The surge starts at t=2300 and holds for for_s.
        assert [t for t, what, _ in events if what == "fired"] == [2310], baseline


def test_the_ewma_baseline_stays_selectable() -> None:
    values = np.r_[_normal(200), 3.0 * _normal(20, seed=3)]
    for baseline, evidence in (("ensemble", {"zscore", "surprise"}), ("ewma", {"zscore"})):
        rule = LATENCY.model_copy(update={"baseline": baseline})
        det = SymptomDetector([rule], warmup_s=600, halflife_s=3600)
        fired = [a for _, what, a in _series(det, values) if what == "fired"]
        assert len(fired) == 1 and dict(fired[0].extra).keys() == evidence


def test_the_section_default_is_written_into_rules_that_name_none() -> None:
    rules = [{"metric": "a", "kind": "x", "transform": "zscore", "threshold": 6},
             {"metric": "b", "kind": "y", "transform": "zscore", "threshold": 6,
              "baseline": "ensemble"}]
    assert [r.baseline for r in DetectionConfig(rules=rules).rules] == ["ensemble"] * 2
    ewma = DetectionConfig.model_validate({"baseline": "ewma", "rules": rules})
    assert [r.baseline for r in ewma.rules] == ["ewma", "ensemble"]
    defaults = default_config().detection.rules
    assert {r.baseline for r in defaults if r.transform == "zscore"} == {"ensemble"}


def test_the_detector_and_its_bank_survive_a_pickle_round_trip() -> None:
    values = np.r_[_normal(200), 3.0 * _normal(20, seed=3), _normal(20, seed=4)]
    det = SymptomDetector([LATENCY], warmup_s=600, halflife_s=3600)
    _series(det, values[:190])
    copy = pickle.loads(pickle.dumps(det))
    rest = [(t, what, a.held_s) for t, what, a in _series(det, values[190:], t0=1900)]
    again = [(t, what, a.held_s) for t, what, a in _series(copy, values[190:], t0=1900)]
    assert rest == again and any(what == "fired" for _, what, _ in rest)
