"""The RecordingStore, driven through the Store port the way the engine drives it."""

from __future__ import annotations

from healops.config.itsm import ItsmConfig
from healops.config.load import default_config
from healops.domain.actions import ActionResult, ActionRun, Outcome, OutcomeStatus
from healops.domain.incidents import Incident, IncidentState
from healops.domain.plans import Decision, Verdict
from healops.domain.signals import Anomaly, SeriesKey
from healops.domain.topology import Service, Topology
from healops.itsm.recorder import ItsmEvent, RecordingStore
from healops.store.itsm_repo import ItsmRepository
from healops.store.sqlalchemy import SqlAlchemyStore

TOPO = Topology.build([Service("api", tier=1, owner="core"), Service("worker", tier=3)])


class Driver:
    def __init__(self, cfg: ItsmConfig | None = None) -> None:
        inner = SqlAlchemyStore("sqlite://")
        self.events: list[ItsmEvent] = []
        self.repo = ItsmRepository(inner.engine)
        self.store = RecordingStore(inner, self.repo, cfg or ItsmConfig(), topology=TOPO,
                                    runbooks=default_config().runbooks,
                                    listeners=[self.events.append])
        self.saved: dict[str, int] = {}

    def save(self, inc: Incident) -> None:
        n = self.saved.get(inc.id, 0)
        self.store.save_incident(inc, inc.timeline[n:])
        self.saved[inc.id] = len(inc.timeline)

    def incident(self, iid: str, now: float, service: str = "api", kind: str = "errors",
                 signature: str = "bad_deploy:api") -> Incident:
        inc = Incident.open(iid, key=f"{service}:{kind}", service=service, now=now)
        inc.attach(Anomaly(SeriesKey.of("m", service=service), kind, 1.0, 1.0, 0.0, now, now))
        self.save(inc)
        inc.transition(IncidentState.DIAGNOSING, now=now + 30)
        inc.signature = signature
        self.save(inc)
        return inc

    def act(self, inc: Incident, action: str, target: str, now: float, ok: bool = True,
            verdict: Verdict = Verdict.AUTO, n: int = 0) -> str:
        self.store.record_decision(inc.id, action, target, Decision(verdict, "low risk", "gate"),
                                   now)
        key = f"{inc.id}/{n}/0/{action}"
        assert self.store.record_intent(ActionRun(key, inc.id, action, target, now))
        self.store.record_result(key, ActionResult(True, "done"), now)
        self.store.record_outcome(Outcome(inc.id, inc.signature, action,
                                          OutcomeStatus.SUCCESS if ok else
                                          OutcomeStatus.FAILURE, now + 30))
        return key


def test_an_automated_fix_is_a_closed_standard_change_and_audited() -> None:
    d = Driver()
    inc = d.incident("I1", 0.0)
    rec = d.repo.get_incident_record("I1")
    assert rec is not None and rec.priority == "P1" and rec.assignment_group == "core"
    assert rec.state == "in_progress" and rec.responded_at == 30.0
    key = d.act(inc, "rollback", "api", 40.0)
    [c] = d.repo.list_changes(incident_id="I1")
    assert (c.kind, c.state, c.outcome, c.action_key) == ("standard", "closed", "successful", key)
    assert c.runbook == "rollback-bad-deploy" and c.approved_by == "policy:gate"
    inc.transition(IncidentState.RESOLVED, now=120.0, note="resolved by automation: verified")
    d.save(inc)
    rec = d.repo.get_incident_record("I1")
    assert rec is not None and rec.state == "resolved" and not rec.breached
    assert rec.resolution == "resolved by automation: verified"
    kinds = [e.kind for e in d.repo.audit_entries(subject="I1")]
    assert kinds == ["decision", "change:requested", "change:implementing", "change:ran",
                     "outcome"]
    assert d.repo.verify_audit().ok
    assert [e.kind for e in d.events] == ["incident:resolved"]


def test_an_approved_action_is_a_normal_change_with_its_approver() -> None:
    d = Driver()
    inc = d.incident("I2", 0.0, signature="slow_dependency:db")
    d.store.record_decision("I2", "failover", "db", Decision(Verdict.APPROVAL, "medium", "gate"),
                            40.0)
    inc.transition(IncidentState.AWAITING_APPROVAL, now=40.0)
    d.save(inc)
    [c] = d.repo.list_changes(incident_id="I2")
    assert (c.kind, c.state) == ("normal", "awaiting_approval")
    assert d.repo.get_incident_record("I2").state == "on_hold"  # type: ignore[union-attr]
    # What Engine.approve does: a note, then the re-decision, the run, then the save.
    inc.note(300.0, "approval", "approved by alice")
    inc.transition(IncidentState.ACTING, now=300.0, note="approved by alice")
    d.act(inc, "failover", "db", 300.0)
    d.save(inc)
    [c] = d.repo.list_changes(incident_id="I2")
    assert (c.kind, c.approved_by, c.approved_at, c.outcome) == ("normal", "alice", 300.0,
                                                                 "successful")
    assert ("alice", "approval") in [(e.actor, e.kind) for e in d.repo.audit_entries()]


def test_a_rejected_action_is_a_rejected_change() -> None:
    d = Driver()
    inc = d.incident("I3", 0.0, signature="slow_dependency:db")
    d.store.record_decision("I3", "failover", "db", Decision(Verdict.APPROVAL, "medium", "gate"),
                            40.0)
    inc.transition(IncidentState.AWAITING_APPROVAL, now=40.0)
    inc.note(100.0, "approval", "rejected by bob: not during the sale")
    inc.transition(IncidentState.ESCALATED, now=100.0)
    d.save(inc)
    [c] = d.repo.list_changes(incident_id="I3")
    assert c.state == "rejected" and "bob" in c.result and "sale" in c.result
    rec = d.repo.get_incident_record("I3")
    assert rec is not None and rec.escalated


def test_a_runbook_earns_standard_changes_with_its_track_record() -> None:
    d = Driver(ItsmConfig.model_validate({"changes": {"standard_min_successes": 1}}))
    a = d.incident("A", 0.0)
    d.act(a, "rollback", "api", 40.0)
    b = d.incident("B", 1000.0)
    d.act(b, "rollback", "api", 1040.0)
    kinds = [d.repo.list_changes(incident_id=i)[0].kind for i in ("A", "B")]
    assert kinds == ["normal", "standard"]


def test_sla_breach_is_flagged_on_tick_and_audited() -> None:
    cfg = ItsmConfig.model_validate({"sla": {"targets": {
        p: {"response_s": 60, "resolution_s": 600} for p in ("P1", "P2", "P3", "P4", "P5")}}})
    d = Driver(cfg)
    d.incident("I4", 0.0)
    d.store.tick(500.0)
    rec = d.repo.get_incident_record("I4")
    assert rec is not None and not rec.breached and rec.resolution_due_at == 600.0
    d.store.tick(601.0)
    rec = d.repo.get_incident_record("I4")
    assert rec is not None and rec.resolution_breached_at == 600.0 and rec.breached
    assert rec.response_breached_at is None  # responded at 30 s, within 60 s
    assert [e.kind for e in d.events] == ["breach:resolution"]
    assert [r.id for r in d.repo.list_incident_records(breached=True)] == ["I4"]
    d.store.tick(900.0)  # flagged once
    assert len(d.repo.audit_entries(kind="sla_breach")) == 1


def test_a_recurring_signature_opens_a_problem_with_a_known_error() -> None:
    cfg = ItsmConfig.model_validate({"problems": {"occurrences": 3, "window_s": 3600}})
    d = Driver(cfg)
    first = d.incident("R1", 0.0, service="worker", kind="disk_filling",
                       signature="disk_filling:worker")
    d.act(first, "clean_disk", "worker-1", 60.0)
    d.incident("R2", 1000.0, service="worker", kind="disk_filling",
               signature="disk_filling:worker")
    assert d.repo.list_problems() == []
    d.incident("OTHER", 1500.0)
    d.incident("R3", 2000.0, service="worker", kind="disk_filling",
               signature="disk_filling:worker")
    [p] = d.repo.list_problems()
    assert p.incident_ids == ["R1", "R2", "R3"] and p.state == "known_error"
    assert "clean_disk" in p.known_error and "verified 1 of 1" in p.workaround
    assert all(d.repo.get_incident_record(i).problem_id == p.id  # type: ignore[union-attr]
               for i in ("R1", "R2", "R3"))
    d.incident("R4", 9000.0, service="worker", kind="disk_filling",
               signature="disk_filling:worker")
    assert d.repo.get_problem(p.id).incident_ids[-1] == "R4"  # type: ignore[union-attr]
    assert [e.kind for e in d.events] == ["problem:opened"]


def test_recurrences_and_track_records_survive_a_restart() -> None:
    cfg = ItsmConfig.model_validate({"problems": {"occurrences": 3, "window_s": 86400},
                                     "changes": {"standard_min_successes": 1}})
    d = Driver(cfg)
    a = d.incident("R1", 0.0, service="worker", kind="disk_filling",
                   signature="disk_filling:worker")
    d.act(a, "clean_disk", "worker-1", 60.0)
    d.incident("R2", 1000.0, service="worker", kind="disk_filling",
               signature="disk_filling:worker")
    # A new process: a new recording store over the same database.
    d.store = RecordingStore(d.store.inner, d.repo, cfg, topology=TOPO,
                             runbooks=default_config().runbooks)
    c = d.incident("R3", 2000.0, service="worker", kind="disk_filling",
                   signature="disk_filling:worker")
    [p] = d.repo.list_problems()
    assert p.incident_ids == ["R1", "R2", "R3"] and "verified 1 of 1" in p.workaround
    d.act(c, "clean_disk", "worker-1", 2060.0)
    assert d.repo.list_changes(incident_id="R3")[0].kind == "standard"  # earned before


def test_a_config_reload_is_audited_by_path_without_secret_values() -> None:
    d = Driver()
    old = ItsmConfig()
    new = ItsmConfig.model_validate({"problems": {"occurrences": 5}, "notifications": {
        "channels": [{"type": "pagerduty", "name": "pd", "routing_key": "ROTATEDKEY"}]}})
    assert d.store.config_changed(old, new, by="admin", now=5.0) == [
        "notifications.channels", "problems.occurrences"]
    [e] = d.repo.audit_entries(kind="config")
    assert e.actor == "admin" and e.data["changed"] == ["notifications.channels",
                                                        "problems.occurrences"]
    assert "ROTATEDKEY" not in e.body and e.data["before"] != e.data["after"]
    assert d.store.config.problems.occurrences == 5


def test_people_resolve_problems_and_close_incidents_and_both_are_audited() -> None:
    cfg = ItsmConfig.model_validate({"problems": {"occurrences": 2, "window_s": 3600}})
    d = Driver(cfg)
    for i, t in (("P1", 0.0), ("P2", 100.0)):
        d.incident(i, t, service="worker", kind="disk_filling", signature="disk_filling:worker")
    [p] = d.repo.list_problems()
    assert not d.store.close_incident("P1", by="ana", now=200.0)  # not resolved yet
    assert d.store.resolve_problem(p.id, by="ana", now=300.0, note="log rotation fixed")
    assert not d.store.resolve_problem(p.id, by="ana", now=301.0)
    got = d.repo.get_problem(p.id)
    assert got is not None and got.state == "resolved" and "log rotation" in got.known_error
    inc = d.incident("P3", 400.0, service="worker", kind="disk_filling",
                     signature="disk_filling:worker")
    assert len(d.repo.list_problems()) == 1  # counting starts afresh after the fix
    d.incident("P4", 450.0, service="worker", kind="disk_filling",
               signature="disk_filling:worker")
    new = [x for x in d.repo.list_problems() if x.id != p.id]
    assert [x.incident_ids for x in new] == [["P3", "P4"]]
    inc.transition(IncidentState.RESOLVED, now=500.0)
    d.save(inc)
    assert d.store.close_incident("P3", by="ana", now=600.0)
    assert d.repo.get_incident_record("P3").state == "closed"  # type: ignore[union-attr]
    kinds = {e.kind for e in d.repo.audit_entries() if e.actor == "ana"}
    assert kinds == {"problem:resolved", "incident:closed"}


def test_reads_beyond_the_port_go_to_the_wrapped_store() -> None:
    d = Driver()
    d.incident("I1", 0.0)
    assert d.store.engine is d.store.inner.engine
    assert [e.kind for e in d.store.timeline("I1")] == ["opened", "state"]


def test_recording_wraps_a_store_on_its_own_database() -> None:
    from healops.itsm.recorder import recording

    inner = SqlAlchemyStore("sqlite://")
    wrapped = recording(default_config())(inner)
    assert wrapped.inner is inner and wrapped.repo.engine is inner.engine
    inc = Incident.open("W", key="k", service="api", now=0.0)
    wrapped.save_incident(inc, inc.timeline)
    assert ItsmRepository(inner.engine).get_incident_record("W") is not None


def test_bootstrap_wires_the_recording_store_when_asked() -> None:
    import inspect

    import pytest

    from healops.act.fake import FakeExecutor
    from healops.bootstrap import bootstrap
    from healops.itsm.recorder import recording

    if "wrap_store" not in inspect.signature(bootstrap).parameters:
        pytest.skip("needs the `wrap_store` argument edit to bootstrap.py")
    class Pages:
        def page(self, escalation: object) -> None: ...

    cfg = default_config()
    engine = bootstrap(cfg, executor=FakeExecutor(), pager=Pages(),  # type: ignore[arg-type]
                       store=SqlAlchemyStore("sqlite://"), wrap_store=recording(cfg))
    assert isinstance(engine.store, RecordingStore)
