"""The built-in policy: data from ``policy:`` in the config, checked in a fixed order.

The first rule that objects decides; only a step no rule objects to runs on its own.
"""

from __future__ import annotations

from healops.config.models import PolicyConfig
from healops.domain.plans import Decision, PlannedStep, Verdict
from healops.policy.base import PolicyContext

__all__ = ["DISRUPTIVE", "RulePolicy"]

_RISK_ORDER = ("low", "medium", "high")

# Actions that take instances out of service while they run.
DISRUPTIVE = frozenset({"restart", "drain", "replace", "stop", "kill"})


class RulePolicy:
    def __init__(self, config: PolicyConfig) -> None:
        self.config = config

    def __call__(self, step: PlannedStep, ctx: PolicyContext, now: float) -> Decision:
        d = self._decide(step, ctx, now)
        # Shadow never acts, not even once a human approves: a step that would ask for
        # approval is only recommended too.
        if self.config.mode == "shadow" and d.verdict is Verdict.APPROVAL:
            return Decision(Verdict.SHADOW, f"shadow mode: recommended, not run ({d.reason})",
                            "mode")
        return d

    def _decide(self, step: PlannedStep, ctx: PolicyContext, now: float) -> Decision:
        c = self.config
        plan = ctx.plan
        if plan.security:
            return Decision(Verdict.ESCALATE, "security-related incidents are never automated",
                            "security")
        if not plan.steps:
            return Decision(Verdict.ESCALATE, "no runbook matches this cause", "no_runbook")
        if c.mode == "manual":
            return Decision(Verdict.ESCALATE, "policy mode is manual: a human fixes everything",
                            "mode")
        recent_failures = [t for t in ctx.signature_failures
                           if t >= now - c.circuit_breaker.window_s]
        if len(recent_failures) >= c.circuit_breaker.count:
            return Decision(Verdict.ESCALATE,
                            f"circuit open: {len(recent_failures)} failed attempts for "
                            f"{plan.signature} within {c.circuit_breaker.window_s:.0f}s",
                            "circuit_breaker")
        target_recent = [t for t in ctx.target_actions if t >= now - c.per_target.window_s]
        if len(target_recent) >= c.per_target.count:
            return Decision(Verdict.ESCALATE,
                            f"rate limit: {step.action} ran {len(target_recent)} times on "
                            f"{step.target} within "
                            f"{c.per_target.window_s:.0f}s", "rate_limit_target")
        all_recent = [t for t in ctx.all_actions if t >= now - c.global_limit.window_s]
        if len(all_recent) >= c.global_limit.count:
            return Decision(Verdict.ESCALATE,
                            f"global rate limit: {len(all_recent)} actions within "
                            f"{c.global_limit.window_s:.0f}s", "rate_limit_global")
        if step.action in DISRUPTIVE:
            after = ctx.disrupted + ctx.touches
            if after / max(ctx.replicas, 1) > c.blast_radius.max_fraction:
                return Decision(Verdict.APPROVAL,
                                f"blast radius: {after} of {ctx.replicas} instances of "
                                f"{step.service} would be out at once (max "
                                f"{c.blast_radius.max_fraction:.0%})", "blast_radius")
            if ctx.replicas - after < c.blast_radius.min_healthy:
                return Decision(Verdict.APPROVAL,
                                f"quorum: fewer than {c.blast_radius.min_healthy} healthy "
                                f"instances of {step.service} would remain", "quorum")
        for w in c.freeze_windows:
            if w.start <= now < w.end and (not w.services or step.service in w.services):
                return Decision(Verdict.APPROVAL, f"change freeze: {w.reason or 'window'}",
                                "freeze")
        if plan.ambiguous:
            return Decision(Verdict.APPROVAL, "diagnosis is ambiguous", "ambiguity")
        if plan.confidence < c.min_confidence:
            return Decision(Verdict.APPROVAL,
                            f"confidence {plan.confidence:.2f} below {c.min_confidence:.2f}",
                            "confidence")
        gate = c.gates.get(step.risk, "escalate")  # type: ignore[call-overload]
        earned = c.autonomy.earn_after > 0 and ctx.streak >= c.autonomy.earn_after \
            and _RISK_ORDER.index(step.risk) <= _RISK_ORDER.index(c.autonomy.up_to_risk) \
            if step.risk in _RISK_ORDER else False
        if gate == "approval" and earned:
            if c.mode == "shadow":
                return Decision(Verdict.SHADOW, "shadow mode: recommended, not run", "mode")
            return Decision(Verdict.AUTO, f"earned autonomy: {ctx.streak} verified fixes in a "
                            f"row for {plan.signature}", "autonomy")
        if gate == "approval":
            return Decision(Verdict.APPROVAL, f"{step.risk}-risk action needs approval", "risk")
        if gate == "escalate":
            return Decision(Verdict.ESCALATE, f"{step.risk}-risk action is escalate-only", "risk")
        if c.mode == "shadow":
            return Decision(Verdict.SHADOW, "shadow mode: recommended, not run", "mode")
        return Decision(Verdict.AUTO, f"{step.risk}-risk, confidence {plan.confidence:.2f}",
                        "risk")
