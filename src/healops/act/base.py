"""The act port.

An ``Executor`` applies one action to one target. Every call carries an idempotency
``key``: executing twice with the same key must not apply the action twice. With
``dry_run`` it checks that the action could run and changes nothing. A failure raises
``ActionError`` saying whether a retry may help.

Parameters arrive as data, never as text to be interpreted: an executor must never pass
them to a shell, a template engine or a filesystem path without validating them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from healops.domain.actions import ActionResult

__all__ = ["ActionError", "Executor", "StepRequest"]


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
