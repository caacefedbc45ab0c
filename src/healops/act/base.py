"""The act port.

An ``Executor`` applies one action to one target. Every call carries an idempotency
``key``: executing twice with the same key must not apply the action twice. With
``dry_run`` it checks that the action could run and changes nothing. A failure raises
``ActionError`` saying whether a retry may help.

An executor that can read its target also implements ``Observer``: after a crash between
an intent and its result, ``observe`` says whether the action took effect, so the journal
can close the run without acting twice. It must answer ``ABSENT`` only when the target
proves the action never ran (then running it once more under the same key is safe), and
``UNKNOWN`` when it cannot tell.

Parameters arrive as data, never as text to be interpreted: an executor must never pass
them to a shell, a template engine or a filesystem path without validating them.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from healops.domain.actions import ActionResult

__all__ = ["ActionError", "Executor", "Observed", "Observer", "StepRequest"]


class ActionError(Exception):
    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True, slots=True)
class StepRequest:
    """What an executor is asked to do."""

    action: str  # e.g. "restart", "rollback", "scale_out", "drain", "renew_cert"
    target: str  # service, instance, backend or host, as the executor names them
    params: Mapping[str, Any] = field(default_factory=dict)
    timeout_s: float = 60.0


class Executor(Protocol):
    def execute(self, step: StepRequest, *, key: str, dry_run: bool = False) -> ActionResult: ...


class Observed(enum.StrEnum):
    """What a target shows about one journalled action."""

    APPLIED = "applied"  # the action's effect (or its key) is on the target
    ABSENT = "absent"  # the target proves the action never ran
    UNKNOWN = "unknown"  # the executor cannot tell


@runtime_checkable
class Observer(Protocol):
    """A read-only check: did the action journalled under ``key`` at ``since`` take effect?"""

    def observe(self, step: StepRequest, *, key: str, since: float) -> Observed: ...
