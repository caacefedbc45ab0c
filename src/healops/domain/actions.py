"""The action journal's vocabulary and what verification concludes."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ActionResult", "ActionRun", "Outcome", "OutcomeStatus"]


@dataclass(frozen=True, slots=True)
class ActionResult:
    ok: bool
    message: str = ""
    retryable: bool = False
    changed: bool = True  # False when the target was already in the wanted state


@dataclass(frozen=True, slots=True)
class ActionRun:
    """One journalled execution: the intent is written before, the result after."""

    key: str  # idempotency key
    incident_id: str
    action: str
    target: str
    intent_at: float
    result: ActionResult | None = None
    finished_at: float | None = None
    dry_run: bool = False
    # What the action was asked to do, so a restart can check or finish it as it was meant.
    params: Mapping[str, Any] = field(default_factory=dict)
    timeout_s: float = 60.0


class OutcomeStatus(enum.StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"


@dataclass(frozen=True, slots=True)
class Outcome:
    incident_id: str
    signature: str
    action: str
    status: OutcomeStatus
    ts: float
    detail: str = ""
