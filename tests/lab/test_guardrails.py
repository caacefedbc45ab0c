"""Scenario tests, one per guardrail: the simulated estate, the real engine from
``bootstrap()`` and a policy that sets the guardrail. Each test shows the guardrail blocking
what it must and, in the same setting, letting through what it should; both are read from
what happened: the executor's actions on the estate, the decisions the engine stored with
their rules, incident states and pages.
"""

from __future__ import annotations

from tests.lab._guardrails import WARMUP_S, Decided, Lab

from healops.clock import SimClock
from healops.domain.incidents import IncidentState
from healops.lab.faults import Fault

AWAITING = IncidentState.AWAITING_APPROVAL
ESCALATED = IncidentState.ESCALATED
RESOLVED = IncidentState.RESOLVED


def _episode(lab: Lab, fault: str, service: str) -> Fault:
    """Inject a fault and step until the engine has decided about it."""
    f = lab.inject(fault, service)
    lab.run_until(lambda: lab.settled(f), limit_s=900, what=f"a decision on {fault} {service}")
    return f


def _until(lab: Lab, f: Fault, state: IncidentState, what: str) -> None:
    lab.run_until(lambda: lab.state(f) is state, limit_s=900, what=what)


def _close(lab: Lab, *faults: Fault) -> None:
    """Let the engine finish; a human repairs whatever it left, then all goes quiet."""
    lab.run_until(lambda: lab.state(faults[-1]) not in (IncidentState.VERIFYING,
                                                       IncidentState.ACTING),
                  limit_s=900, what="verification")
    for f in faults:
        if f.present(lab.estate, lab.now):
            f.human_fix(lab.estate, lab.now)
    lab.run_until(lab.quiet, limit_s=1800, what="all incidents closed")


def _fixed_by_engine(lab: Lab, f: Fault, action: str) -> None:
    """The engine ran ``action`` on the fault's target, verified it, and the fault is gone."""
    _until(lab, f, RESOLVED, f"{f.name} resolved")
    assert lab.resolution(f) == "resolved by automation: verified", lab.story()
    assert action in lab.actions_on(f.target, since=f.injected_at), lab.story()
    assert not f.present(lab.estate, lab.now)
    assert lab.pages_for(f) == []
    assert [d.verdict for d in lab.decisions(f)] == ["auto"]


def _blocked(lab: Lab, f: Fault, *, verdict: str, rule: str) -> Decided:
    """The engine decided not to act on its own, by ``rule``; nothing touched the target."""
    decided = lab.decisions(f)
    assert [(d.verdict, d.rule) for d in decided] == [(verdict, rule)], lab.story()
    assert lab.actions_on(f.target, since=f.injected_at) == [], lab.story()
    assert lab.actions_on(f.service, since=f.injected_at) == []
    assert f.present(lab.estate, lab.now)
    pages = lab.pages_for(f)
    assert [p.kind for p in pages] == ["approval" if verdict == "approval" else "escalation"]
    assert pages[0].reason == decided[0].reason
    return decided[0]


# ---- rate limits ------------------------------------------------------------------------
def test_rate_limit_per_target_refuses_the_same_fix_beyond_its_count_and_escalates() -> None:
    lab = Lab(seed=11, policy={"per_target": {"count": 2, "window_s": 7200}})
    for _ in range(2):  # the first two run and fix it
        f = _episode(lab, "cert_expiring", "edge")
        _fixed_by_engine(lab, f, "renew_cert")
        _close(lab, f)
    third = _episode(lab, "cert_expiring", "edge")
    lab.run(300)
    assert lab.state(third) is ESCALATED
    d = _blocked(lab, third, verdict="escalate", rule="rate_limit_target")
    assert d.reason == "rate limit: renew_cert ran 2 times on edge within 7200s"
    assert lab.actions_on("edge").count("renew_cert") == 2

    # The limit is per target: the same fix on another service still runs meanwhile.
    other = _episode(lab, "cert_expiring", "payments")
    _fixed_by_engine(lab, other, "renew_cert")
    _close(lab, third, other)

    # Once the first run has left the window, the same fix on the same target runs again.
    lab.run(lab.actions[0].at + 7200 - lab.now)
    again = _episode(lab, "cert_expiring", "edge")
    _fixed_by_engine(lab, again, "renew_cert")


def test_global_rate_limit_refuses_any_action_beyond_its_count_and_escalates() -> None:
    lab = Lab(seed=12, policy={"global_limit": {"count": 2, "window_s": 3600}})
    for fault, service, action in (("cert_expiring", "edge", "renew_cert"),
                                   ("bad_deploy_errors", "catalog", "rollback")):
        f = _episode(lab, fault, service)
        _fixed_by_engine(lab, f, action)
        _close(lab, f)
    third = _episode(lab, "cert_expiring", "payments")  # a new target, a new action: no matter
    assert lab.state(third) is ESCALATED
    d = _blocked(lab, third, verdict="escalate", rule="rate_limit_global")
    assert d.reason == "global rate limit: 2 actions within 3600s"
    _close(lab, third)

    lab.run(lab.actions[0].at + 3600 - lab.now)
    again = _episode(lab, "cert_expiring", "payments")
    _fixed_by_engine(lab, again, "renew_cert")


# ---- circuit breaker ----------------------------------------------------------------------
def _bad_deploy_on_bad_deploy(lab: Lab, service: str) -> Fault:
    """Two bad deploys in a row: rolling back one lands on the other, so the fix fails."""
    first = lab.inject("bad_deploy_errors", service)
    lab.inject("bad_deploy_errors", service)
    return first


def test_circuit_breaker_stops_automation_for_a_failing_signature_only() -> None:
    lab = Lab(seed=13, policy={"circuit_breaker": {"count": 2, "window_s": 86_400},
                               "per_target": {"count": 10, "window_s": 3600}})
    for n in range(2):  # two attempts; each rollback lands on a bad version and fails
        f = _bad_deploy_on_bad_deploy(lab, "catalog")
        _until(lab, f, ESCALATED, "the failed rollback escalated")
        inc = lab.incident(f)
        assert inc is not None and inc.signature == "bad_deploy:catalog", lab.story()
        assert [d.rule for d in lab.decisions(f)] == ["risk"]
        assert lab.actions_on("catalog", since=f.injected_at) == ["rollback"]
        assert "did not clear the symptoms" in lab.pages_for(f)[-1].reason
        _close(lab, f)
        assert lab.estate.services["catalog"].versions == ["v1"], n

    # The third time even a plain bad deploy, which one rollback would fix, is left alone.
    third = _episode(lab, "bad_deploy_errors", "catalog")
    assert lab.state(third) is ESCALATED
    d = _blocked(lab, third, verdict="escalate", rule="circuit_breaker")
    assert d.reason == "circuit open: 2 failed attempts for bad_deploy:catalog within 86400s"
    _close(lab, third)

    # The circuit is still open, but another signature (the same fault class on another
    # service) is still automated.
    other = _episode(lab, "bad_deploy_errors", "orders")
    _fixed_by_engine(lab, other, "rollback")


# ---- blast radius and quorum --------------------------------------------------------------
def test_blast_radius_asks_a_human_before_taking_too_much_of_a_service_out() -> None:
    # At most 40% of a service's replicas out at once: one of edge's three (33%) may
    # restart, one of orders' two (50%) may not.
    lab = Lab(seed=14, policy={"blast_radius": {"max_fraction": 0.4, "min_healthy": 0}})
    leak = _episode(lab, "memory_leak", "orders")
    lab.run(60)
    assert lab.state(leak) is AWAITING
    d = _blocked(lab, leak, verdict="approval", rule="blast_radius")
    assert d.action == "restart" and d.target == leak.target
    assert d.reason == "blast radius: 1 of 2 instances of orders would be out at once (max 40%)"

    # A human who looks and agrees lets it run.
    inc = lab.incident(leak)
    assert inc is not None and lab.engine.approve(inc.id, by="ana", now=lab.now)
    assert lab.actions_on(leak.target) == ["restart"]
    _close(lab, leak)

    edge = _episode(lab, "memory_leak", "edge")
    _fixed_by_engine(lab, edge, "restart")


def test_quorum_blocks_an_action_that_would_leave_too_few_healthy_replicas() -> None:
    # Whatever the fraction, at least two instances must keep serving.
    lab = Lab(seed=15, policy={"blast_radius": {"max_fraction": 1.0, "min_healthy": 2}})
    bad = _episode(lab, "bad_replica", "orders")
    lab.run(60)
    assert lab.state(bad) is AWAITING
    d = _blocked(lab, bad, verdict="approval", rule="quorum")
    assert d.action == "drain" and d.target == bad.target
    assert d.reason == "quorum: fewer than 2 healthy instances of orders would remain"
    _close(lab, bad)

    ok = _episode(lab, "bad_replica", "edge")  # three replicas: two remain
    _until(lab, ok, RESOLVED, "bad replica resolved")
    assert lab.resolution(ok) == "resolved by automation: verified", lab.story()
    assert lab.actions_on(ok.target) == ["drain", "replace"], lab.story()
    assert not ok.present(lab.estate, lab.now)
    assert [(d.action, d.verdict) for d in lab.decisions(ok)] == [("drain", "auto"),
                                                                  ("replace", "auto")]


# ---- change freeze ------------------------------------------------------------------------
def test_freeze_window_holds_actions_on_frozen_services_until_it_ends() -> None:
    start = SimClock().now() + WARMUP_S
    window = {"start": start, "end": start + 3600, "services": ["edge"],
              "reason": "year-end release freeze"}
    lab = Lab(seed=16, policy={"freeze_windows": [window]})
    assert lab.now >= start
    frozen = _episode(lab, "cert_expiring", "edge")
    lab.run(1200)  # twenty minutes into the freeze: still waiting for a human
    assert lab.state(frozen) is AWAITING
    d = _blocked(lab, frozen, verdict="approval", rule="freeze")
    assert d.reason == "change freeze: year-end release freeze"

    # During the same freeze a service outside it is fixed.
    other = _episode(lab, "cert_expiring", "payments")
    _fixed_by_engine(lab, other, "renew_cert")
    _close(lab, frozen, other)
    assert lab.now < start + 3600

    # After the freeze, the same fault on the same service is fixed on its own.
    lab.run(start + 3600 - lab.now)
    after = _episode(lab, "cert_expiring", "edge")
    _fixed_by_engine(lab, after, "renew_cert")


# ---- approval gate ------------------------------------------------------------------------
def test_approval_gate_runs_a_medium_risk_step_only_once_a_human_approves() -> None:
    lab = Lab(seed=17)
    slow = _episode(lab, "slow_dependency", "db")
    lab.run(900)  # fifteen minutes without an answer: nothing runs
    assert lab.state(slow) is AWAITING
    d = _blocked(lab, slow, verdict="approval", rule="risk")
    assert (d.action, d.target) == ("failover", "db")
    assert d.reason == "medium-risk action needs approval"
    inc = lab.incident(slow)
    assert inc is not None

    assert lab.engine.approve(inc.id, by="ana", now=lab.now)
    assert lab.actions_on("db") == ["failover"]
    assert [(x.verdict, x.rule) for x in lab.decisions(slow)] == [("approval", "risk"),
                                                                  ("auto", "approval")]
    _until(lab, slow, RESOLVED, "failover verified")
    assert lab.resolution(slow) == "resolved by automation: verified", lab.story()
    assert not slow.present(lab.estate, lab.now)
    assert [p.kind for p in lab.pages_for(slow)] == ["approval"]
    _close(lab, slow)

    again = _episode(lab, "slow_dependency", "db")
    assert lab.state(again) is AWAITING
    inc = lab.incident(again)
    assert inc is not None
    assert lab.engine.reject(inc.id, by="ana", now=lab.now, comment="not during peak")
    assert lab.state(again) is ESCALATED
    assert not lab.engine.approve(inc.id, by="ana", now=lab.now)  # too late to approve
    lab.run(600)
    assert lab.actions_on("db", since=again.injected_at) == []
    assert again.present(lab.estate, lab.now)
    assert [p.kind for p in lab.pages_for(again)] == ["approval", "escalation"]
    assert lab.pages_for(again)[-1].reason == "action rejected by ana"


# ---- shadow mode --------------------------------------------------------------------------
def test_shadow_mode_recommends_and_changes_nothing_where_auto_mode_fixes() -> None:
    shadow = Lab(seed=18, policy={"mode": "shadow"})
    f = _episode(shadow, "bad_deploy_errors", "catalog")
    shadow.run(600)
    assert shadow.actions == []  # the executor never ran anything
    assert f.present(shadow.estate, shadow.now)
    assert shadow.estate.services["catalog"].versions == ["v1", "v2"]
    d = _blocked(shadow, f, verdict="shadow", rule="mode")
    assert (d.action, d.target) == ("rollback", "catalog")
    assert "rollback catalog (runbook rollback-bad-deploy)" in shadow.pages_for(f)[0].suggested

    auto = Lab(seed=18)  # the same estate, the same fault, the engine in charge
    g = _episode(auto, "bad_deploy_errors", "catalog")
    _fixed_by_engine(auto, g, "rollback")
    assert auto.estate.services["catalog"].versions == ["v1"]


def test_shadow_mode_does_not_act_even_on_a_step_a_human_would_approve() -> None:
    shadow = Lab(seed=21, policy={"mode": "shadow"})
    f = _episode(shadow, "slow_dependency", "db")
    assert shadow.state(f) is ESCALATED  # handed over with the recommendation, not queued
    d = _blocked(shadow, f, verdict="shadow", rule="mode")
    assert (d.action, d.target) == ("failover", "db")
    assert d.reason == "shadow mode: recommended, not run (medium-risk action needs approval)"
    inc = shadow.incident(f)
    assert inc is not None and not shadow.engine.approve(inc.id, by="ana", now=shadow.now)
    shadow.run(300)
    assert shadow.actions == []

    auto = Lab(seed=21)  # in auto mode the same step waits for approval, then runs
    g = _episode(auto, "slow_dependency", "db")
    inc = auto.incident(g)
    assert auto.state(g) is AWAITING and inc is not None
    assert auto.engine.approve(inc.id, by="ana", now=auto.now)
    assert auto.actions_on("db") == ["failover"]


# ---- ambiguity ----------------------------------------------------------------------------
def _rival(weight: float) -> dict[str, object]:
    """Another cause with the same symptom: a certificate the CA revoked."""
    return {"name": "cert_revoked", "all_of": ["cert_expiring"], "weight": weight}


def test_an_ambiguous_diagnosis_goes_to_a_human_and_an_unambiguous_one_is_fixed() -> None:
    lab = Lab(seed=19, faults=[_rival(1.0)])  # as likely as an expiring certificate
    cert = _episode(lab, "cert_expiring", "edge")
    lab.run(300)
    assert lab.state(cert) is AWAITING
    d = _blocked(lab, cert, verdict="approval", rule="ambiguity")
    assert (d.action, d.target, d.reason) == ("renew_cert", "edge", "diagnosis is ambiguous")
    inc = lab.incident(cert)
    assert inc is not None
    diag = [e for e in inc.timeline if e.kind == "diagnosis"]
    assert diag and diag[0].data["ambiguous"] is True
    assert "cert_expiring vs cert_revoked too close" in diag[0].message

    # In the same engine an unrelated, unambiguous fault is fixed on its own.
    deploy = _episode(lab, "bad_deploy_errors", "catalog")
    _fixed_by_engine(lab, deploy, "rollback")

    # The same fault with a clearly less likely rival is not ambiguous: fixed.
    clear = Lab(seed=19, faults=[_rival(0.8)])
    c = _episode(clear, "cert_expiring", "edge")
    _fixed_by_engine(clear, c, "renew_cert")


# ---- security ------------------------------------------------------------------------------
def test_a_security_anomaly_is_escalated_and_never_acted_on_even_with_autonomy() -> None:
    # Everything that could let it through: auto mode, every risk gated "auto", a runbook
    # for it, and three verified fixes in a row on record (autonomy is earned after one).
    sig = "security_incident:auth"
    lab = Lab(seed=20,
              policy={"mode": "auto", "gates": {"low": "auto", "medium": "auto",
                                                "high": "auto"},
                      "autonomy": {"earn_after": 1, "up_to_risk": "high"}},
              runbooks=[{"name": "absorb-login-burst", "fault": "security_incident",
                         "risk": "low", "steps": [{"action": "scale_out",
                                                   "params": {"replicas": 1}}]}])
    for _ in range(3):
        lab.engine.stats.record(sig, "scale_out", True)
    attack = _episode(lab, "security_anomaly", "auth")
    lab.run(600)
    assert lab.state(attack) is ESCALATED
    d = _blocked(lab, attack, verdict="escalate", rule="security")
    assert (d.action, d.target) == ("scale_out", "auth")
    assert d.reason == "security-related incidents are never automated"
    assert lab.actions == []
    _close(lab, attack)

    # The same action on the same service for a fault that is not a security one runs.
    surge = _episode(lab, "traffic_surge", "auth")
    lab.run_until(lambda: bool(lab.actions_on("auth")), limit_s=300, what="scale-out")
    assert lab.actions_on("auth")[0] == "scale_out"
    assert lab.decisions(surge)[0].verdict == "auto"


# ---- decisions without a step ---------------------------------------------------------------
def test_an_incident_with_nothing_to_run_still_stores_its_decision_and_reason() -> None:
    lab = Lab(seed=5)
    attack = _episode(lab, "security_anomaly", "auth")
    d = _blocked(lab, attack, verdict="escalate", rule="security")
    assert (d.action, d.reason) == ("none", "security-related incidents are never automated")
    _close(lab, attack)
    unknown = _episode(lab, "no_runbook", "worker")
    d = _blocked(lab, unknown, verdict="escalate", rule="no_runbook")
    assert d.reason == "no runbook matches this cause"
