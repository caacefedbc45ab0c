"""The policy port and the facts a decision is made from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from healops.domain.plans import Decision, Plan, PlannedStep

__all__ = ["Policy", "PolicyContext"]


@dataclass(frozen=True)
class PolicyContext:
    """History the decision needs; the engine gathers it from the journal."""

    plan: Plan
    # times of recent automated runs of this step's action on this step's target
    target_actions: Sequence[float] = ()
    all_actions: Sequence[float] = ()  # times of all recent automated actions
    signature_failures: Sequence[float] = ()  # times of failed outcomes for this signature
    replicas: int = 1  # instances of the step's service
    disrupted: int = 0  # instances of the service already drained/restarting by us
    touches: int = 1  # instances this step takes out of service at once
    streak: int = 0  # verified successes in a row of this action for this signature


class Policy(Protocol):
    def __call__(self, step: PlannedStep, ctx: PolicyContext, now: float) -> Decision: ...
