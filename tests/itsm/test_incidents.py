from __future__ import annotations

import pytest

from healops.config.itsm import ItsmConfig, PriorityConfig
from healops.domain.incidents import Incident, IncidentState
from healops.domain.signals import Anomaly, SeriesKey
from healops.domain.topology import Service, Topology
from healops.itsm.incidents import ItilState, itil_state, tick_record, update_record
from healops.itsm.priority import assess

TOPO = Topology.build([Service("web", tier=1), Service("batch", tier=3)])


def _anomaly(service: str, kind: str) -> Anomaly:
    return Anomaly(SeriesKey.of("m", service=service), kind, 1.0, 1.0, 0.0, 0.0, 0.0)


@pytest.mark.parametrize("state, itil", [
    (IncidentState.OPEN, "new"), (IncidentState.DIAGNOSING, "in_progress"),
    (IncidentState.ACTING, "in_progress"), (IncidentState.VERIFYING, "in_progress"),
    (IncidentState.ESCALATED, "in_progress"), (IncidentState.AWAITING_APPROVAL, "on_hold"),
    (IncidentState.SUPPRESSED, "on_hold"), (IncidentState.RESOLVED, "resolved")])
def test_every_engine_state_has_an_itil_state(state: IncidentState, itil: str) -> None:
    assert itil_state(state) == itil


@pytest.mark.parametrize("tier, services, kinds, expected", [
    (1, 1, ["down"], "P1"), (1, 1, ["latency"], "P2"), (2, 1, ["errors"], "P2"),
    (3, 1, ["traffic"], "P5"), (3, 3, ["traffic"], "P4"), (3, 1, ["slo_burn"], "P3"),
    (2, 1, ["unheard_of"], "P4"), (1, 5, ["errors"], "P1")])
def test_priority_matrix(tier: int, services: int, kinds: list[str], expected: str) -> None:
    assert assess(PriorityConfig(), tier=tier, services=services, symptoms=kinds).priority \
        == expected


def test_customer_facing_override_raises_impact() -> None:
    cfg = PriorityConfig(services={"batch": 1})
    assert assess(cfg, tier=3, services=1, symptoms=["errors"], service="batch").priority == "P1"


def test_priority_only_rises_and_the_sla_follows_it() -> None:
    cfg = ItsmConfig()
    inc = Incident.open("I", key="k", service="batch", now=0.0)
    inc.attach(_anomaly("batch", "traffic"))
    rec, _ = update_record(None, inc, cfg, TOPO, now=0.0)
    assert rec.priority == "P5" and rec.resolution_due_at == 240 * 3600
    inc.attach(_anomaly("batch", "down"))
    rec, events = update_record(rec, inc, cfg, TOPO, now=10.0)
    assert rec.priority == "P3" and "priority:P3" in events
    assert rec.resolution_due_at == 24 * 3600  # re-timed from the opening, at P3 targets
    inc.anomalies.clear()
    inc.attach(_anomaly("batch", "traffic"))
    rec, events = update_record(rec, inc, cfg, TOPO, now=20.0)
    assert rec.priority == "P3" and not any(e.startswith("priority") for e in events)


def test_resolved_records_close_after_the_configured_time_and_stay_closed() -> None:
    cfg = ItsmConfig.model_validate({"sla": {"close_after_s": 3600}})
    inc = Incident.open("I", key="k", service="web", now=0.0)
    rec, _ = update_record(None, inc, cfg, TOPO, now=0.0)
    inc.transition(IncidentState.RESOLVED, now=100.0, note="recovered without action")
    rec, events = update_record(rec, inc, cfg, TOPO, now=100.0)
    assert rec.state is ItilState.RESOLVED and rec.resolved_at == 100.0
    assert rec.resolution == "recovered without action"
    assert tick_record(rec, cfg, now=3699.0) == []
    assert tick_record(rec, cfg, now=3700.0) == ["state:closed"]
    assert rec.state is ItilState.CLOSED and rec.closed_at == 3700.0
    assert tick_record(rec, cfg, now=99_999_999.0) == []  # a closed record never breaches


def test_an_acknowledgement_is_the_response_when_automation_has_not_picked_it_up() -> None:
    cfg = ItsmConfig()
    inc = Incident.open("I", key="k", service="web", now=0.0)
    rec, _ = update_record(None, inc, cfg, TOPO, now=0.0)
    assert tick_record(rec, cfg, now=60.0, responded=True) == ["responded"]
    assert rec.responded_at == 60.0
    assert rec.priority == "P3" and rec.response_due_at == 4 * 3600
    assert tick_record(rec, cfg, now=4 * 3600 + 1) == []  # acknowledged in time
    silent = Incident.open("J", key="k", service="web", now=0.0)
    rec2, _ = update_record(None, silent, cfg, TOPO, now=0.0)
    assert tick_record(rec2, cfg, now=4 * 3600 + 1) == ["breach:response"]
    assert rec2.response_breached_at == 4 * 3600 and rec2.resolution_breached_at is None
