"""Each guardrail blocks what it must and lets through what it should."""

from __future__ import annotations

from healops.config.models import FreezeWindow, PolicyConfig
from healops.domain.plans import Plan, PlannedStep, Verdict
from healops.policy.base import PolicyContext
from healops.policy.rules import RulePolicy

STEP = PlannedStep("restart", "api-1", "api")
SVC_STEP = PlannedStep("rollback", "api", "api")


def plan(**kw: object) -> Plan:
    base: dict[str, object] = dict(incident_id="I", runbook="rb", signature="leak:api",
                                   cause="leak", confidence=0.9, steps=(STEP,))
    base.update(kw)
    return Plan(**base)  # type: ignore[arg-type]


def decide(ctx: PolicyContext, step: PlannedStep = STEP, now: float = 1000.0,
           **cfg: object) -> Verdict:
    return RulePolicy(PolicyConfig(**cfg))(step, ctx, now).verdict  # type: ignore[arg-type]


def test_a_confident_low_risk_step_runs_on_its_own() -> None:
    assert decide(PolicyContext(plan(), replicas=3)) is Verdict.AUTO


def test_security_is_never_automated() -> None:
    assert decide(PolicyContext(plan(security=True), replicas=3)) is Verdict.ESCALATE


def test_ambiguity_and_low_confidence_ask_a_human() -> None:
    assert decide(PolicyContext(plan(ambiguous=True), replicas=3)) is Verdict.APPROVAL
    assert decide(PolicyContext(plan(confidence=0.5), replicas=3)) is Verdict.APPROVAL


def test_per_target_and_global_rate_limits() -> None:
    ctx = PolicyContext(plan(), target_actions=(900.0, 950.0, 990.0), replicas=3)
    assert decide(ctx) is Verdict.ESCALATE
    old = PolicyContext(plan(), target_actions=(1.0, 2.0, 3.0), replicas=3)
    assert decide(old, now=10_000.0) is Verdict.AUTO  # outside the window
    busy = PolicyContext(plan(), all_actions=tuple(float(900 + i) for i in range(30)),
                         replicas=3)
    assert decide(busy) is Verdict.ESCALATE


def test_circuit_breaker_opens_after_repeated_failures() -> None:
    ctx = PolicyContext(plan(), signature_failures=(10.0, 20.0, 30.0), replicas=3)
    assert decide(ctx) is Verdict.ESCALATE
    two = PolicyContext(plan(), signature_failures=(10.0, 20.0), replicas=3)
    assert decide(two) is Verdict.AUTO


def test_blast_radius_and_quorum() -> None:
    assert decide(PolicyContext(plan(), replicas=3, disrupted=1)) is Verdict.APPROVAL
    assert decide(PolicyContext(plan(), replicas=1)) is Verdict.APPROVAL  # quorum / radius
    whole = PolicyContext(plan(), replicas=3, touches=3)
    assert decide(whole) is Verdict.APPROVAL
    assert decide(PolicyContext(plan(), replicas=4, disrupted=1)) is Verdict.AUTO
    # A non-disruptive action on the service is not limited by the blast radius.
    assert decide(PolicyContext(plan(steps=(SVC_STEP,)), replicas=1), SVC_STEP) is Verdict.AUTO


def test_change_freeze_window() -> None:
    freeze = [FreezeWindow(start=500, end=2000, services=["api"], reason="release")]
    ctx = PolicyContext(plan(), replicas=3)
    assert decide(ctx, freeze_windows=freeze) is Verdict.APPROVAL
    assert decide(ctx, now=3000, freeze_windows=freeze) is Verdict.AUTO


def test_approval_gate_and_shadow_and_manual_modes() -> None:
    ctx = PolicyContext(plan(), replicas=3)
    medium = PlannedStep("failover", "db", "db", risk="medium")
    assert decide(PolicyContext(plan(steps=(medium,)), replicas=3), medium) is Verdict.APPROVAL
    assert decide(ctx, mode="shadow") is Verdict.SHADOW
    assert decide(ctx, mode="manual") is Verdict.ESCALATE


def test_no_runbook_escalates() -> None:
    assert decide(PolicyContext(plan(steps=()), replicas=3)) is Verdict.ESCALATE
