"""Scenario tests: the simulated estate, the whole loop, and the ITSM side, as a timeline."""

from __future__ import annotations

from sqlalchemy import select

from healops.config.itsm import ItsmConfig
from healops.itsm.postmortem import PostmortemInput, render_postmortem
from healops.store.tables import ActionRunRow

from ._sim import Human, Sim

ONCALL = {
    "schedules": [{"name": "primary", "rotation": ["ana", "bo"], "shift_s": 604800}],
    "policies": [{"name": "core", "team": "core", "tiers": [
        {"notify": ["primary"], "ack_timeout_s": 300},
        {"notify": ["lead"], "ack_timeout_s": 600}]},
        {"name": "platform", "team": "platform", "tiers": [
            {"notify": ["primary"], "ack_timeout_s": 300},
            {"notify": ["lead"], "ack_timeout_s": 600}]}],
    "contacts": {"ana": {"email": "ana@example.org"}, "bo": {"email": "bo@example.org"},
                 "lead": {"email": "lead@example.org"}},
}


def _itsm(**extra: object) -> ItsmConfig:
    return ItsmConfig.model_validate({"oncall": ONCALL, **extra})


def test_an_sla_breach_is_flagged_when_a_human_fix_comes_late() -> None:
    tight = {p: {"response_s": 600, "resolution_s": 900} for p in ("P1", "P2", "P3", "P4",
                                                                   "P5")}
    sim = Sim(_itsm(sla={"targets": tight}), human=Human(ack_after_s=60, fix_after_s=1500))
    sim.run(1200)  # warm up the detectors
    sim.inject("no_runbook", "worker")
    sim.run(3600)
    [rec] = sim.repo.list_incident_records(service="worker")
    assert rec.escalated and rec.state in ("resolved", "closed")
    assert rec.resolved_at is not None and rec.resolved_at - rec.opened_at > 900
    assert rec.resolution_breached_at == rec.opened_at + 900 and rec.breached
    assert rec.response_breached_at is None  # automation took it up within 10 minutes
    assert [e.subject for e in sim.repo.audit_entries(kind="sla_breach")] == [rec.id]
    assert sim.repo.verify_audit().ok


def test_an_unacknowledged_page_escalates_to_the_next_tier() -> None:
    sim = Sim(_itsm(), human=Human(ack_after_s=None, fix_after_s=1200))
    sim.run(1200)
    sim.inject("no_runbook", "worker")
    sim.run(2400)
    [page] = sim.pager.pages.values()
    paged = [n for n in sim.notifier.sent if n.action == "trigger"]
    assert [n.recipients for n in paged] == [("ana@example.org",), ("lead@example.org",)]
    assert paged[1].ts - paged[0].ts == 300  # exactly at the tier's ack timeout
    assert page.acked_at is None and page.resolved_at is not None  # closed when resolved
    kinds = [e.kind for e in sim.repo.audit_entries(kind=None) if e.kind.startswith("page:")]
    assert kinds[:2] == ["page:paged", "page:escalated"]
    md = render_postmortem(PostmortemInput(
        page.incident_id, sim.inner.timeline(page.incident_id),
        sim.repo.get_incident_record(page.incident_id),
        audit=sim.repo.audit_entries(subject=page.incident_id)))
    assert ": paged tier 1: ana" in md and ": escalated tier 2: lead" in md
    assert "acknowledged by" not in md


def test_an_acknowledged_page_does_not_escalate() -> None:
    sim = Sim(_itsm(), human=Human(ack_after_s=120, fix_after_s=900))
    sim.run(1200)
    sim.inject("no_runbook", "worker")
    sim.run(2400)
    paged = [n for n in sim.notifier.sent if n.action == "trigger"]
    assert len(paged) == 1 and sim.human.acked
    assert [n.action for n in sim.notifier.sent] == ["trigger", "acknowledge", "resolve"]


def test_a_recurring_signature_opens_a_problem_with_its_fix() -> None:
    sim = Sim(_itsm(problems={"occurrences": 3, "window_s": 86400}))
    sim.run(1200)
    for _ in range(3):
        sim.inject("disk_filling", "catalog")
        sim.run(1800)
    [p] = sim.repo.list_problems()
    assert p.signature.startswith("disk_filling:") and len(p.incident_ids) == 3
    assert p.state == "known_error" and "clean_disk" in p.workaround
    recs = [sim.repo.get_incident_record(i) for i in p.incident_ids]
    assert all(r is not None and r.problem_id == p.id for r in recs)


def test_every_automated_action_has_a_change_record() -> None:
    sim = Sim(_itsm(), human=Human(ack_after_s=60, approve_after_s=120, fix_after_s=900))
    sim.run(1200)
    for fault, svc in [("crashloop_after_deploy", "api"), ("cert_expiring", "edge"),
                       ("bad_replica", "catalog"), ("slow_dependency", "db"),
                       ("memory_leak", "orders")]:
        sim.inject(fault, svc)
        sim.run(1800)
    with sim.inner.unit_of_work() as s:
        runs = {r.key: r for r in s.scalars(select(ActionRunRow)).all()}
    changes = sim.repo.list_changes(limit=1000)
    by_key = {c.action_key: c for c in changes if c.action_key}
    assert len(runs) >= 5
    assert set(runs) <= set(by_key)  # every journalled action is a change
    for key, run in runs.items():
        c = by_key[key]
        assert (c.incident_id, c.action, c.target) == (run.incident_id, run.action, run.target)
        assert c.state == "closed" and c.outcome in ("successful", "unsuccessful")
    approved = [c for c in changes if c.action == "failover"]
    assert approved and all(c.kind == "normal" and c.approved_by == "ana" for c in approved)
    assert {c.kind for c in changes if c.action != "failover"} == {"standard"}
    assert sim.repo.verify_audit().ok
