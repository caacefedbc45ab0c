"""Plans (ordered runbook steps) and the policy's decisions about them."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Decision", "Plan", "PlannedStep", "Verdict"]


@dataclass(frozen=True, slots=True)
class PlannedStep:
    """One concrete action on one target, with its undo and how to verify it."""

    action: str
    target: str  # service, instance or host the action touches
    service: str
    params: dict[str, Any] = field(default_factory=dict)
    risk: str = "low"
    timeout_s: float = 60.0
    undo: str = ""  # action name that reverses this one, empty when nothing to undo
    verify_window_s: float = 30.0
    verify_ignore_kinds: tuple[str, ...] = ()  # symptoms that may persist after a good fix
    on_failure: str = "next"  # "next" | "undo" | "escalate"
    then: str = "stop"  # after a verified success: "stop" or "continue" with the next step


@dataclass(frozen=True, slots=True)
class Plan:
    incident_id: str
    runbook: str
    signature: str
    cause: str  # the hypothesis' component and fault, for the record
    confidence: float
    steps: tuple[PlannedStep, ...]
    ambiguous: bool = False
    security: bool = False


class Verdict(enum.StrEnum):
    AUTO = "auto"
    APPROVAL = "approval"
    ESCALATE = "escalate"
    DENY = "deny"
    SHADOW = "shadow"


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    reason: str
    rule: str = ""
