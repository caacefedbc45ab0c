from __future__ import annotations

from healops.clock import SimClock
from healops.config.itsm import ItsmConfig
from healops.domain.incidents import Incident
from healops.domain.topology import Service, Topology
from healops.itsm.escalation import build_escalation
from healops.itsm.notify import FakeNotifier, PageGate, Router
from healops.itsm.oncall import OnCallPager, policy_for

TOPO = Topology.build([Service("api", tier=1, owner="core"), Service("db", owner="data"),
                       Service("misc")])
CFG = ItsmConfig.model_validate({"oncall": {
    "schedules": [{"name": "core-primary", "rotation": ["ana", "bo"], "shift_s": 86400,
                   "start": 0}],
    "policies": [
        {"name": "core", "team": "core", "repeat": 0, "tiers": [
            {"notify": ["core-primary"], "ack_timeout_s": 300},
            {"notify": ["cy", "core-primary"], "ack_timeout_s": 600}]},
        {"name": "db", "services": ["db"], "tiers": [{"notify": ["dee"]}]},
        {"name": "fallback", "tiers": [{"notify": ["ops"]}]}],
    "default_policy": "fallback",
    "contacts": {"ana": {"email": "ana@example.org"}, "cy": {"email": "cy@example.org"}}}})


def _pager(start: float = 0.0) -> tuple[OnCallPager, FakeNotifier, SimClock, list[str]]:
    clock, fake, acks = SimClock(start), FakeNotifier(), []
    pager = OnCallPager(CFG, clock=clock, topology=TOPO,
                        router=Router({"fake": fake}, PageGate(dedup_window_s=3600,
                                                               rate_count=100,
                                                               rate_window_s=3600)),
                        priority_of=lambda i: "P1",
                        on_ack=lambda i, by, t: acks.append(f"{i}:{by}@{t:.0f}"))
    return pager, fake, clock, acks


def _esc(service: str = "api", kind: str = "escalation") -> object:
    inc = Incident.open("I1", key="k", service=service, now=0.0)
    return build_escalation(inc, None, [], ["restart api-1: failed"], kind=kind,  # type: ignore[arg-type]
                            reason="no runbook covers this")


def test_policy_by_service_then_team_then_default() -> None:
    names = {s: getattr(policy_for(CFG, s, TOPO), "name", None) for s in ("db", "api", "misc")}
    assert names == {"db": "db", "api": "core", "misc": "fallback"}


def test_an_unacknowledged_page_climbs_to_the_next_tier() -> None:
    pager, fake, clock, _ = _pager(start=1000.0)
    pager.page(_esc())  # type: ignore[arg-type]
    [first] = fake.sent
    assert first.recipients == ("ana@example.org",) and first.priority == "P1"
    assert first.severity == "critical" and "tried: restart api-1: failed" in first.lines
    assert pager.tick(1299.0) == [] and len(fake.sent) == 1
    [moved] = pager.tick(1300.0)
    assert moved.tier == 1 and moved.people == ["cy", "ana"]
    assert fake.sent[-1].recipients == ("cy@example.org", "ana@example.org")
    assert pager.tick(1899.0) == []
    assert pager.tick(1900.0) == [] and "nobody left" in moved.history[-1]  # no repeat
    assert len(fake.sent) == 2


def test_an_acknowledged_page_stays_put_and_counts_as_a_response() -> None:
    pager, fake, clock, acks = _pager()
    pager.page(_esc())  # type: ignore[arg-type]
    pid = next(iter(pager.pages))
    assert pager.ack(pid, by="ana", now=120.0)
    assert not pager.ack(pid, by="ana", now=130.0)
    assert pager.tick(10_000.0) == []
    assert acks == ["I1:ana@120"]
    assert [n.action for n in fake.sent] == ["trigger", "acknowledge"]


def test_the_schedule_rotates_and_pages_are_deduplicated_and_resolved() -> None:
    pager, fake, clock, _ = _pager(start=86400.0 + 5)  # bo's shift
    pager.page(_esc())  # type: ignore[arg-type]
    pager.page(_esc())  # type: ignore[arg-type]  # the same page again: one notification
    assert len(fake.sent) == 1 and pager.pages["PG-I1-escalation"].people == ["bo"]
    pager.resolve("I1", now=86500.0)
    assert [n.action for n in fake.sent] == ["trigger", "resolve"]
    assert pager.tick(999_999.0) == []


def test_an_approval_page_links_to_the_console() -> None:
    cfg = CFG.model_copy(update={"notifications": CFG.notifications.model_copy(
        update={"console_url": "https://ops.example.org/"})})
    fake = FakeNotifier()
    pager = OnCallPager(cfg, clock=SimClock(0.0), topology=TOPO,
                        router=Router({"fake": fake}, PageGate(dedup_window_s=1, rate_count=9,
                                                               rate_window_s=1)))
    pager.page(_esc(kind="approval"))  # type: ignore[arg-type]
    [n] = fake.sent
    assert n.title.startswith("approval needed") and n.severity == "error"
    assert n.link == "https://ops.example.org/incidents/I1"
    assert "approve or reject: https://ops.example.org/incidents/I1" in n.lines


def test_sla_breaches_go_to_the_configured_channels() -> None:
    from healops.itsm.recorder import ItsmEvent

    cfg = CFG.model_copy(update={"notifications": CFG.notifications.model_copy(
        update={"breach_channels": ["fake"]})})
    fake = FakeNotifier()
    pager = OnCallPager(cfg, clock=SimClock(0.0), topology=TOPO,
                        router=Router({"fake": fake}, PageGate(dedup_window_s=60, rate_count=9,
                                                               rate_window_s=60)))
    ev = ItsmEvent("breach:resolution", "I1", 600.0, "I1 (P1, api): resolution SLA breached")
    pager.on_itsm_event(ev)
    pager.on_itsm_event(ev)  # deduplicated
    [n] = fake.sent
    assert n.title == ev.message and n.severity == "warning"
    quiet, quiet_fake, _, _ = _pager()
    quiet.on_itsm_event(ev)  # no breach_channels: nobody is told
    assert quiet_fake.sent == []
