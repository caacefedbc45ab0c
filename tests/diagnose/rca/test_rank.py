"""rank_root_causes on small hand-made frames."""

from __future__ import annotations

import pickle

import numpy as np

from healops.diagnose.rca import (
    MetricFrame,
    RankSettings,
    call_metric,
    is_ambiguous,
    rank_root_causes,
    split_causes,
    to_diagnosis,
)
from healops.domain.signals import ChangeEvent
from healops.domain.topology import Service, Topology

RNG = np.random.default_rng(0)
N_BEFORE, N_AFTER = 30, 10


def quiet(level: float, n: int, sd: float = 0.02) -> np.ndarray:
    return level * (1.0 + RNG.normal(0.0, sd, n))


def step(level: float, jump: float, start: int) -> np.ndarray:
    """After-window series at ``level`` that moves to ``level * jump`` from ``start``."""
    out = quiet(level, N_AFTER)
    out[start:] *= jump
    return out


def chain() -> Topology:
    return Topology.build([
        Service("web", depends_on=("api",)),
        Service("api", depends_on=("db",)),
        Service("db"),
    ])


def frames(after: dict[tuple[str, str], np.ndarray]) -> tuple[MetricFrame, MetricFrame]:
    before = {k: quiet(float(np.median(v[:1])), N_BEFORE) for k, v in after.items()}
    return MetricFrame.build(before), MetricFrame.build(after, start=N_BEFORE)


def test_faulty_callee_outranks_callers_with_bigger_latency_scores() -> None:
    before, after = frames({
        ("web", "latency"): step(100.0, 9.0, 2),  # the biggest z-score of all
        ("web", "cpu"): quiet(30.0, N_AFTER),
        ("api", "latency"): step(50.0, 6.0, 2),
        ("api", "cpu"): quiet(30.0, N_AFTER),
        ("db", "latency"): step(10.0, 3.0, 1),
        ("db", "cpu"): step(20.0, 2.5, 1),
    })
    ranked = rank_root_causes(before, after, chain())
    assert [c.service for c in ranked][:1] == ["db"]
    assert ranked[0].fault in ("cpu", "latency")
    assert set(ranked[0].explains) == {"api", "web"}


def test_client_latency_is_evidence_about_callees_not_the_caller() -> None:
    before, after = frames({
        ("web", "PodClientLatencyP90(s)"): step(0.1, 20.0, 1),
        ("db", "CpuUsageRate(%)"): step(20.0, 2.0, 1),
    })
    ranked = rank_root_causes(before, after, chain())
    assert ranked[0].service == "db"


def test_a_slow_callee_does_not_excuse_a_callers_own_resource_fault() -> None:
    # web saturates its CPU and slows down; db, which web calls, slowed a little earlier
    before, after = frames({
        ("web", "CpuUsageRate(%)"): step(30.0, 3.0, 2),
        ("web", "PodServerLatencyP90(s)"): step(0.1, 9.0, 2),  # web's largest z-score
        ("db", "PodServerLatencyP90(s)"): step(0.01, 1.6, 1),
    })
    ranked = rank_root_causes(before, after, chain())
    assert ranked[0].service == "web"
    assert ranked[0].fault == "cpu"


def test_services_without_a_clear_anomaly_are_ordered_by_their_weaker_evidence() -> None:
    flat = [20.0] * N_AFTER
    before = MetricFrame.build({("alpha", "cpu"): [20.0] * N_BEFORE,
                                ("beta", "mem"): [500.0] * N_BEFORE,
                                ("beta", "cpu"): [20.0] * N_BEFORE,
                                ("gamma", "cpu"): [20.0] * N_BEFORE})
    after = MetricFrame.build({("alpha", "cpu"): flat,
                               ("beta", "mem"): [500.0] * N_AFTER,
                               ("beta", "cpu"): [20.0] + [30.0] * (N_AFTER - 1),  # z 2.5
                               ("gamma", "cpu"): [20.0] + [60.0] * (N_AFTER - 1)})
    ranked = rank_root_causes(before, after, None)
    assert [c.service for c in ranked] == ["gamma", "beta", "alpha"]
    assert ranked[1].score == ranked[2].score == 0.0


def test_earlier_onset_wins_between_equal_anomalies() -> None:
    before, after = frames({
        ("a", "cpu"): step(20.0, 3.0, 1),
        ("b", "cpu"): step(20.0, 3.0, 6),
    })
    ranked = rank_root_causes(before, after, None, settings=RankSettings(onset_decay=0.5))
    assert [c.service for c in ranked] == ["a", "b"]
    assert ranked[0].onset is not None and ranked[1].onset is not None
    assert ranked[0].onset < ranked[1].onset


def test_ambiguity_is_flagged_when_two_are_close_and_not_otherwise() -> None:
    close_b, close_a = frames({
        ("a", "cpu"): step(20.0, 3.0, 1),
        ("b", "cpu"): step(20.0, 3.0, 1),
    })
    assert is_ambiguous(rank_root_causes(close_b, close_a, None))
    far_b, far_a = frames({
        ("a", "cpu"): step(20.0, 5.0, 1),
        ("b", "cpu"): step(20.0, 1.3, 1),
    })
    ranked = rank_root_causes(far_b, far_a, None)
    assert not is_ambiguous(ranked)
    assert to_diagnosis("inc", ranked, None).ambiguous is False


def test_two_unrelated_failures_split_into_two_clusters() -> None:
    topo = Topology.build([
        Service("web", depends_on=("cart",)),
        Service("cart"),
        Service("batch", depends_on=("store",)),
        Service("store"),
    ])
    before, after = frames({
        ("web", "latency"): step(100.0, 4.0, 2),
        ("cart", "cpu"): step(20.0, 3.0, 1),
        ("batch", "latency"): step(100.0, 4.0, 2),
        ("store", "mem"): step(500.0, 2.5, 1),
    })
    clusters = split_causes(rank_root_causes(before, after, topo), topo)
    assert sorted(c.root.service for c in clusters) == ["cart", "store"]
    by_root = {c.root.service: [m.service for m in c.members] for c in clusters}
    assert by_root == {"cart": ["web"], "store": ["batch"]}
    diagnosis = to_diagnosis("inc", rank_root_causes(before, after, topo), topo)
    assert sorted(h.component for h in diagnosis.causes) == ["cart", "store"]


def test_evidence_carries_before_and_after_values_and_the_path() -> None:
    before, after = frames({
        ("web", "latency"): step(100.0, 4.0, 2),
        ("api", "latency"): step(50.0, 4.0, 2),
        ("db", "cpu"): step(20.0, 3.0, 1),
    })
    top = rank_root_causes(before, after, chain())[0]
    metric = [e for e in top.evidence if e.kind == "metric"][0]
    assert top.service == "db" and metric.series == "db/cpu"
    assert metric.before is not None and abs(metric.before - 20.0) < 2.0
    assert metric.after is not None and abs(metric.after - 60.0) < 6.0
    assert metric.ts == after.time_of(1)
    paths = [e.summary for e in top.evidence if e.kind == "path"]
    assert any(p.startswith("web -> api -> db") for p in paths)


def test_calls_measured_by_callers_give_a_topology_and_blame_the_callee() -> None:
    # no topology given: it is read from ``call:<caller>:`` metrics
    before, after = frames({
        ("web", "latency"): step(100.0, 8.0, 2),
        ("api", call_metric("web", "latency")): step(20.0, 4.0, 1),
    })
    ranked = rank_root_causes(before, after)
    assert ranked[0].service == "api"
    assert ranked[0].fault == "network"


def test_a_change_shortly_before_adds_credit_and_evidence() -> None:
    before, after = frames({
        ("a", "cpu"): step(20.0, 3.0, 1),
        ("b", "cpu"): step(20.0, 3.0, 1),
    })
    change = ChangeEvent(ts=after.start - 5.0, service="b", kind="deploy", version="2")
    ranked = rank_root_causes(before, after, None, changes=[change])
    assert ranked[0].service == "b"
    assert any(e.kind == "change" for e in ranked[0].evidence)


def test_confidences_are_in_unit_interval_and_inputs_are_untouched() -> None:
    before, after = frames({
        ("a", "cpu"): step(20.0, 3.0, 1),
        ("b", "latency"): step(20.0, 1.5, 1),
    })
    snapshot = {k: v.copy() for k, v in after.series.items()}
    ranked = rank_root_causes(before, after, None)
    assert all(0.0 <= c.confidence <= 1.0 for c in ranked)
    assert sum(c.confidence for c in ranked) <= 1.0 + 1e-9
    assert all(np.array_equal(snapshot[k], v) for k, v in after.series.items())


def test_frames_pickle_round_trip() -> None:
    before, _ = frames({("a", "cpu"): step(20.0, 3.0, 1)})
    copy = pickle.loads(pickle.dumps(before))
    assert np.array_equal(copy.series[("a", "cpu")], before.series[("a", "cpu")])
