"""The pieces under the ranking: metric kinds, scoring, baseline, simulator, public API."""

from __future__ import annotations

import numpy as np

import healops.diagnose.rca as rca
from healops.diagnose.rca import MetricFrame, baro_rank, infer_topology, score_frames
from healops.diagnose.rca.kinds import bad_direction, metric_kind, metric_role


def test_public_api_names_exist() -> None:
    assert sorted(rca.__all__) == sorted(set(rca.__all__))
    for name in rca.__all__:
        assert hasattr(rca, name), name


def test_metric_kinds_and_roles() -> None:
    assert metric_kind("MemoryUsageRate(%)") == "memory"
    assert metric_kind("PodServerLatencyP99(s)") == "latency"
    assert metric_kind("error_rate") == "errors"
    assert metric_kind("NetworkReceiveBytes") == "network"
    assert metric_role("PodServerLatencyP99(s)") == "own"
    assert metric_role("PodClientLatencyP99(s)") == "outgoing"
    assert bad_direction("PodSuccessRate(%)") == -1


def test_a_drop_in_success_rate_is_a_symptom_and_a_rise_is_not() -> None:
    before = MetricFrame.build({("a", "success_rate"): [99.0, 99.5, 99.2, 99.4] * 5})
    fall = MetricFrame.build({("a", "success_rate"): [99.0, 30.0, 25.0, 20.0]})
    rise = MetricFrame.build({("a", "success_rate"): [99.0, 140.0, 150.0, 150.0]})
    assert score_frames(before, fall)[0].strength > 3
    assert score_frames(before, rise)[0].strength == 0.0


def test_a_few_percent_of_requests_failing_is_a_symptom_at_full_success() -> None:
    before = MetricFrame.build({("a", "SuccessRate(%)"): [100.0] * 4,
                                ("a", "ErrorRate(%)"): [0.0] * 4,
                                ("a", "CpuUsageRate(%)"): [100.0] * 4})
    after = MetricFrame.build({("a", "SuccessRate(%)"): [100.0, 97.0, 96.5, 97.5, 100.0],
                               ("a", "ErrorRate(%)"): [0.0, 3.0, 3.5, 2.5, 0.0],
                               ("a", "CpuUsageRate(%)"): [100.0, 97.0, 96.5, 97.5, 100.0]})
    by = {s.metric: s for s in score_frames(before, after)}
    assert by["SuccessRate(%)"].strength > 3 and by["ErrorRate(%)"].strength > 3
    assert by["SuccessRate(%)"].onset == 1
    assert by["CpuUsageRate(%)"].strength < 3  # a 3 % dip in CPU is no symptom
    blip = MetricFrame.build({("a", "SuccessRate(%)"): [100.0, 99.8, 99.9, 100.0, 100.0]})
    assert score_frames(before, blip)[0].strength < 3  # a failed request or two is not


def test_a_deviation_must_hold_for_three_samples() -> None:
    before = MetricFrame.build({("a", "cpu"): [10.0, 11.0, 9.0, 10.0]})
    two = MetricFrame.build({("a", "cpu"): [10.0, 40.0, 40.0, 10.0, 10.0]})
    three = MetricFrame.build({("a", "cpu"): [10.0, 40.0, 40.0, 40.0, 10.0]})
    assert score_frames(before, two)[0].strength < 3
    assert score_frames(before, three)[0].strength > 3


def test_a_single_spike_counts_less_than_a_lasting_shift() -> None:
    base = np.tile([10.0, 11.0, 9.0, 10.0], 5)
    before = MetricFrame.build({("a", "cpu"): base, ("b", "cpu"): base})
    after = MetricFrame.build(
        {("a", "cpu"): [10, 50, 10, 10, 10], ("b", "cpu"): [10, 30, 30, 30, 30]}
    )
    by = {s.service: s for s in score_frames(before, after)}
    assert by["b"].strength > by["a"].strength


def test_nan_and_constant_series_do_not_break_scoring() -> None:
    before = MetricFrame.build({("a", "cpu"): [np.nan] * 4, ("b", "cpu"): [5.0] * 4})
    after = MetricFrame.build({("a", "cpu"): [1.0, 2.0], ("b", "cpu"): [np.nan, 50.0]})
    scores = {s.service: s for s in score_frames(before, after)}
    assert "a" not in scores  # no baseline at all
    assert scores["b"].strength >= 0.0
    assert [svc for svc, _, _ in baro_rank(before, after)][0] == "b"


def test_no_call_metrics_no_inferred_topology() -> None:
    assert infer_topology([("a", "cpu"), ("b", "latency")]) is None


def test_simulator_is_seeded() -> None:
    one = rca.simulate_case(services=8, seed=11)
    two = rca.simulate_case(services=8, seed=11)
    assert (one.root, one.fault) == (two.root, two.fault)
    for key, values in one.after.series.items():
        assert np.array_equal(values, two.after.series[key])
    assert one.root in one.topology


def test_a_series_vanishes_only_if_it_reported_steadily_before() -> None:
    nan = np.nan
    before = MetricFrame.build({
        ("pay", "call:shop:latency"): [0.01, 0.011, 0.01, 0.012],
        ("mail", "call:shop:latency"): [0.01, nan, 0.01, 0.012],  # sparse already
        ("cart", "call:shop:latency"): [0.01, 0.011, 0.01, 0.012],
    })
    after = MetricFrame.build({
        ("pay", "call:shop:latency"): [0.01, nan, nan, nan, 0.01],
        ("mail", "call:shop:latency"): [0.01, nan, nan, nan, 0.01],
        ("cart", "call:shop:latency"): [0.01, nan, 0.01, 0.011, 0.01],  # one gap
    })
    by = {s.service: s for s in score_frames(before, after)}
    assert by["pay"].vanished and by["pay"].onset == 1
    assert not by["mail"].vanished and not by["cart"].vanished


def test_simulated_latency_stays_bounded_down_call_chains() -> None:
    for seed in range(5):
        case = rca.simulate_case(services=40, seed=seed, nonlinear=True, edge_prob=0.2)
        peak = max(float(np.nanmax(np.abs(v))) for (_, m), v in case.after.series.items()
                   if m == "latency")
        assert peak < 1e6, (seed, peak)
