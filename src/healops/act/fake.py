"""An in-memory executor for tests of the engine: it records every call and keeps a state.

It keeps the same contract as the real executors (idempotency keys, dry run, retryable
failures, unknown actions rejected, targets validated), so a test that passes against the
fake exercises the engine the way production will.

>>> fake = FakeExecutor()
>>> fake.execute(StepRequest(action="restart", target="web"), key="k1").changed
True
>>> fake.execute(StepRequest(action="restart", target="web"), key="k1").changed
False
>>> fake.state["web"]["restarts"]
1
>>> fake.observe(StepRequest(action="restart", target="web"), key="k1", since=0.0)
<Observed.APPLIED: 'applied'>
>>> fake.fail_next("restart", retryable=True)
>>> fake.execute(StepRequest(action="restart", target="web"), key="k2")
Traceback (most recent call last):
...
healops.act.base.ActionError: scripted failure of restart on web
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from healops.act import validate
from healops.act.base import ActionError, Observed, StepRequest
from healops.domain.actions import ActionResult

__all__ = ["DEFAULT_ACTIONS", "FakeCall", "FakeExecutor"]

_TARGET = re.compile(r"[A-Za-z0-9][A-Za-z0-9_:-]*(?:[./][A-Za-z0-9][A-Za-z0-9_:-]*)*")

State = dict[str, Any]
# An effect changes a target's state and says whether anything changed.
Effect = Callable[[State, Mapping[str, Any]], bool]


def _set(field: str, value: Any) -> Effect:
    def effect(state: State, params: Mapping[str, Any]) -> bool:
        changed: bool = state.get(field) != value
        state[field] = value
        return changed

    return effect


def _count(field: str) -> Effect:
    def effect(state: State, params: Mapping[str, Any]) -> bool:
        state[field] = state.get(field, 0) + 1
        return True

    return effect


def _scale(state: State, params: Mapping[str, Any]) -> bool:
    wanted = validate.integer(params.get("replicas"), field="replicas", low=0, high=1000)
    changed = state.get("replicas") != wanted
    state["replicas"] = wanted
    return changed


def _scale_by(sign: int) -> Effect:
    def effect(state: State, params: Mapping[str, Any]) -> bool:
        by = validate.integer(params.get("by", 1), field="by", low=1, high=1000)
        state["replicas"] = max(0, state.get("replicas", 1) + sign * by)
        return True

    return effect


def _deploy(state: State, params: Mapping[str, Any]) -> bool:
    wanted = validate.version(params.get("version"))
    if state.get("version") == wanted:
        return False
    state["previous_version"] = state.get("version")
    state["version"] = wanted
    return True


def _rollback(state: State, params: Mapping[str, Any]) -> bool:
    previous = state.get("previous_version")
    if previous is None:
        raise validate.InvalidParameter("rollback: no previous version recorded")
    state["version"], state["previous_version"] = previous, state.get("version")
    return True


DEFAULT_ACTIONS: Mapping[str, Effect] = {
    "restart": _count("restarts"),
    "rolling_restart": _count("restarts"),
    "start": _set("running", True),
    "stop": _set("running", False),
    "scale": _scale,
    "scale_out": _scale_by(+1),
    "scale_in": _scale_by(-1),
    "deploy": _deploy,
    "rollback": _rollback,
    "drain": _set("admin", "drain"),
    "ready": _set("admin", "ready"),
    "maint": _set("admin", "maint"),
    "clean_disk": _count("cleanups"),
    "kill_runaway": _count("kills"),
    "delete_pod": _count("deletions"),
    "renew_cert": _count("renewals"),
}


@dataclass(frozen=True, slots=True)
class FakeCall:
    step: StepRequest
    key: str
    dry_run: bool


class FakeExecutor:
    """Records calls in ``calls``, applies effects to ``state`` and lists them in ``applied``.

    ``state`` maps a target to a dict the test may pre-seed and inspect. ``fail_next``
    scripts failures, consumed in order.
    """

    def __init__(
        self,
        *,
        actions: Mapping[str, Effect] = DEFAULT_ACTIONS,
        state: Mapping[str, State] | None = None,
        ledger: validate.IdempotencyLedger | None = None,
    ) -> None:
        self.actions = dict(actions)
        self.state: dict[str, State] = {t: dict(s) for t, s in (state or {}).items()}
        self.calls: list[FakeCall] = []
        self.applied: list[FakeCall] = []
        self._ledger = ledger or validate.IdempotencyLedger()
        self._failures: list[tuple[str, str | None, bool]] = []
        self._lock = threading.Lock()

    def fail_next(self, action: str, target: str | None = None, *, retryable: bool) -> None:
        """The next matching execution raises ``ActionError(retryable=...)``."""
        with self._lock:
            self._failures.append((action, target, retryable))

    def calls_for(self, action: str) -> Iterable[FakeCall]:
        return [c for c in self.calls if c.step.action == action]

    def execute(self, step: StepRequest, *, key: str, dry_run: bool = False) -> ActionResult:
        with self._lock:
            self.calls.append(FakeCall(step, key, dry_run))
        validate.check_key(key)
        effect = self.actions[validate.check_action(step, self.actions, "FakeExecutor")]
        target = validate.string(step.target, "target", 253)
        if not _TARGET.fullmatch(target):
            raise validate.InvalidParameter(f"target: {target[:60]!r} is not a valid target")
        validate.timeout(step)
        if dry_run:
            scratch = dict(self.state.get(target, {}))
            effect(scratch, step.params)  # validates params without touching real state
            return ActionResult(ok=True, message=f"dry run: would {step.action} {target}",
                                changed=False)
        return self._ledger.apply(key, step, lambda: self._apply(step, key, target, effect))

    def _apply(self, step: StepRequest, key: str, target: str, effect: Effect) -> ActionResult:
        with self._lock:
            for i, (action, failing_target, retryable) in enumerate(self._failures):
                if action == step.action and failing_target in (None, target):
                    del self._failures[i]
                    raise ActionError(
                        f"scripted failure of {step.action} on {target}", retryable=retryable
                    )
            state = self.state.setdefault(target, {})
            changed = effect(state, step.params)
            self.applied.append(FakeCall(step, key, False))
        return ActionResult(ok=True, message=f"{step.action} {target}", changed=changed)

    def observe(self, step: StepRequest, *, key: str, since: float) -> Observed:
        """Whether an effect was applied under ``key`` (the fake's state is the target's)."""
        with self._lock:
            return Observed.APPLIED if any(c.key == key for c in self.applied) \
                else Observed.ABSENT
