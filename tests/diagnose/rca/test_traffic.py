"""Traffic in the ranking: lost traffic points at the caller, extra load explains latency."""

from __future__ import annotations

import math

import numpy as np

from healops.diagnose.rca import (
    ChangeEvidence,
    MetricEvidence,
    MetricFrame,
    PathEvidence,
    call_metric,
    rank_root_causes,
)
from healops.domain.signals import ChangeEvent
from healops.domain.topology import Service, Topology

RNG = np.random.default_rng(1)
N_BEFORE, N_AFTER = 30, 10


def quiet(level: float, n: int, sd: float = 0.03) -> np.ndarray:
    return level * (1.0 + RNG.normal(0.0, sd, n))


def shop() -> Topology:
    return Topology.build([
        Service("web", depends_on=("checkout", "catalog")),
        Service("checkout", depends_on=("pay", "mail", "currency")),
        Service("catalog"),
        Service("pay"),
        Service("mail"),
        Service("currency"),
    ])


def build(after: dict[tuple[str, str], np.ndarray]) -> tuple[MetricFrame, MetricFrame]:
    before = {k: quiet(float(np.nanmedian(v[:1])), N_BEFORE) for k, v in after.items()}
    return MetricFrame.build(before), MetricFrame.build(after, start=N_BEFORE)


def healthy() -> dict[tuple[str, str], np.ndarray]:
    out: dict[tuple[str, str], np.ndarray] = {}
    for svc in ("web", "checkout", "catalog", "pay", "mail", "currency"):
        out[(svc, "CpuUsageRate(%)")] = quiet(30.0, N_AFTER)
        out[(svc, "PodWorkload(Ops)")] = quiet(10.0, N_AFTER)
    for caller, callee in (("web", "checkout"), ("web", "catalog"), ("checkout", "pay"),
                           ("checkout", "mail"), ("checkout", "currency")):
        out[(callee, call_metric(caller, "latency"))] = quiet(0.01, N_AFTER)
    return out


def test_a_caller_that_stops_calling_its_dependencies_is_the_cause() -> None:
    after = healthy()
    # checkout fails before it calls payment and mail: those calls stop being reported
    for callee in ("pay", "mail"):
        series = after[(callee, call_metric("checkout", "latency"))]
        series[2:] = math.nan
        after[(callee, "PodWorkload(Ops)")][2:] = 0.0
    # and the callers of checkout see it slow down a little
    after[("checkout", call_metric("web", "latency"))] = quiet(0.01, N_AFTER)
    after[("checkout", call_metric("web", "latency"))][2:] *= 1.6
    before, after_f = build(after)
    ranked = rank_root_causes(before, after_f, shop())
    top = ranked[0]
    assert top.service == "checkout", [(c.service, c.score) for c in ranked[:3]]
    assert top.fault == "errors"
    stopped = [d for d in top.of_kind(PathEvidence) if isinstance(d, PathEvidence)
               and d.relation == "stopped_calling"]
    assert {p.path for p in stopped} == {("checkout", "pay"), ("checkout", "mail")}
    metrics = [d for d in top.of_kind(MetricEvidence) if isinstance(d, MetricEvidence)]
    assert any(m.service in ("pay", "mail") and (m.stopped or m.after < m.before)
               for m in metrics)


def test_lost_traffic_is_not_blamed_on_a_caller_that_lost_its_own() -> None:
    after = healthy()
    # everything below web lost traffic, web too: the drop came from outside
    for svc in ("web", "checkout", "catalog", "pay", "mail", "currency"):
        after[(svc, "PodWorkload(Ops)")][2:] *= 0.2
    after[("catalog", "CpuUsageRate(%)")][2:] *= 3.0  # and one real fault
    before, after_f = build(after)
    ranked = rank_root_causes(before, after_f, shop())
    assert ranked[0].service == "catalog"
    assert ranked[0].fault == "cpu"


def test_latency_that_rises_with_the_services_own_load_is_a_victim() -> None:
    after = healthy()
    after[("currency", "PodWorkload(Ops)")][2:] *= 2.0
    after[("currency", call_metric("checkout", "latency"))][2:] *= 8.0
    after[("catalog", call_metric("web", "latency"))][2:] *= 3.0
    before, after_f = build(after)
    ranked = {c.service: c for c in rank_root_causes(before, after_f, shop())}
    assert ranked["catalog"].score > ranked["currency"].score
    loads = [d for d in ranked["currency"].details
             if isinstance(d, PathEvidence) and d.relation == "more_load"]
    assert loads and loads[0].path == ("checkout", "currency")
    # without the load, the much larger latency rise makes currency the top cause
    after[("currency", "PodWorkload(Ops)")] = quiet(10.0, N_AFTER)
    before, after_f = build(after)
    assert rank_root_causes(before, after_f, shop())[0].service == "currency"


def test_every_cause_carries_checkable_structured_evidence() -> None:
    after = healthy()
    after[("catalog", "CpuUsageRate(%)")][1:] *= 3.0
    after[("catalog", call_metric("web", "latency"))][2:] *= 4.0
    before, after_f = build(after)
    change = ChangeEvent(ts=after_f.start - 20.0, service="catalog", kind="deploy",
                         version="1.4.1", previous_version="1.4.0")
    neighbour = ChangeEvent(ts=after_f.start - 10.0, service="web", kind="config")
    unrelated = ChangeEvent(ts=after_f.start - 5.0, service="pay", kind="deploy")
    top = rank_root_causes(before, after_f, shop(), changes=[unrelated, neighbour, change])[0]
    assert top.service == "catalog"
    metrics = [d for d in top.details if isinstance(d, MetricEvidence)]
    cpu = next(m for m in metrics if m.metric == "CpuUsageRate(%)")
    assert abs(cpu.before - 30.0) < 3.0 and abs(cpu.after - 90.0) < 9.0
    assert cpu.at == after_f.time_of(1) and cpu.strength > 3.0
    changes = [d for d in top.details if isinstance(d, ChangeEvidence)]
    # its own change first, then the one a call away; pay is two calls away: left out
    assert [(c.change, c.hops) for c in changes] == [(change, 0), (neighbour, 1)]
    assert changes[0].lead_s == after_f.time_of(1) - change.ts  # to the cause's onset
    # the same facts reach the domain's evidence, numbers intact
    kinds = [e.kind for e in top.evidence]
    assert "metric" in kinds and "change" in kinds
    domain_cpu = next(e for e in top.evidence if e.series == "catalog/CpuUsageRate(%)")
    assert domain_cpu.before == cpu.before and domain_cpu.after == cpu.after
    assert "1.4.0 -> 1.4.1" in next(e.summary for e in top.evidence if e.kind == "change")


def test_only_a_change_to_the_cause_itself_adds_credit() -> None:
    after = healthy()
    after[("catalog", "CpuUsageRate(%)")][1:] *= 3.0
    after[("pay", "CpuUsageRate(%)")][1:] *= 3.0
    before, after_f = build(after)
    plain = {c.service: c.score for c in rank_root_causes(before, after_f, shop())}
    near_pay = ChangeEvent(ts=after_f.start - 5.0, service="checkout", kind="deploy")
    on_pay = ChangeEvent(ts=after_f.start - 5.0, service="pay", kind="deploy")
    beside = {c.service: c.score
              for c in rank_root_causes(before, after_f, shop(), changes=[near_pay])}
    assert beside["pay"] == plain["pay"]
    ranked = rank_root_causes(before, after_f, shop(), changes=[on_pay])
    assert ranked[0].service == "pay" and ranked[0].score > plain["pay"]


def test_a_callee_explaining_its_callers_shows_the_paths() -> None:
    after = healthy()
    after[("pay", "CpuUsageRate(%)")][1:] *= 3.0
    after[("pay", call_metric("checkout", "latency"))][1:] *= 5.0
    after[("checkout", call_metric("web", "latency"))][2:] *= 4.0
    after[("web", "PodServerLatencyP90(s)")] = quiet(0.2, N_AFTER)
    after[("web", "PodServerLatencyP90(s)")][2:] *= 4.0
    before, after_f = build(after)
    ranked = {c.service: c for c in rank_root_causes(before, after_f, shop())}
    paths = {d.path: d.relation for d in ranked["pay"].details if isinstance(d, PathEvidence)}
    assert paths.get(("web", "checkout", "pay")) == "explains"
    back = {d.path: d.relation for d in ranked["checkout"].details
            if isinstance(d, PathEvidence)}
    assert back.get(("checkout", "pay")) == "explained_by"
