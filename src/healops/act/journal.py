"""The action journal: intent before, result after, never a blind re-run.

``run`` commits an intent under the idempotency key, executes, and commits the result.
If the key already has a result, that result is returned and nothing runs again.

An intent without a result means the engine stopped between the two (a crash, a kill).
The action may or may not have taken effect, and the executor's memory of the key died with
the process, so asking it again could act twice. Such an intent is *settled* instead: the
executor is asked to look at the target (``Observer.observe``), and ``settle`` decides,
as a pure function of the intent and what was seen:

- the effect is there: the run is closed as done, and nothing runs;
- the target proves the action never ran: it runs once, under the same key;
- nobody can tell: the run is closed as failed with an "unknown" result, never re-run, and
  the incident is escalated so that a person checks the target.

``reconcile(now)`` settles every such intent; the engine calls it on start-up, before it
does anything else.

>>> settle(ActionRun("k", "INC-1", "restart", "api-1", 10.0), Observed.APPLIED).result.ok
True
>>> settle(ActionRun("k", "INC-1", "restart", "api-1", 10.0), Observed.ABSENT).rerun
True
>>> s = settle(ActionRun("k", "INC-1", "restart", "api-1", 10.0), Observed.UNKNOWN)
>>> s.rerun, s.escalate, s.result.ok
(False, True, False)
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from healops.act.base import ActionError, Executor, Observed, Observer, StepRequest
from healops.domain.actions import ActionResult, ActionRun
from healops.store.base import Store

__all__ = ["ActionJournal", "Reconciled", "Settlement", "settle"]


@dataclass(frozen=True, slots=True)
class Settlement:
    """What to do with an intent left without a result."""

    rerun: bool  # run it (once, same key); otherwise record ``result``
    result: ActionResult | None
    escalate: bool  # a person must look at the target


def settle(run: ActionRun, seen: Observed) -> Settlement:
    """Decide from the intent and what the target shows; no I/O."""
    if run.dry_run:  # a dry run changes nothing, so running it again is harmless
        return Settlement(True, None, False)
    if seen is Observed.APPLIED:
        return Settlement(False, ActionResult(
            True, "reconciled after a restart: the effect is on the target; not run again",
            changed=True), False)
    if seen is Observed.ABSENT:
        return Settlement(True, None, False)
    return Settlement(False, ActionResult(
        False, f"unknown: interrupted by a restart, and the executor cannot check whether "
        f"{run.action} {run.target} took effect; not run again, check the target",
        retryable=False, changed=False), True)


@dataclass(frozen=True, slots=True)
class Reconciled:
    """One intent settled after a restart, and how."""

    run: ActionRun
    seen: Observed
    rerun: bool
    result: ActionResult
    escalate: bool


class ActionJournal:
    def __init__(
        self,
        store: Store,
        executor: Executor,
        *,
        retries: int = 3,
        backoff_s: float = 0.5,
        sleep: Callable[[float], None] = lambda s: None,
        seed: int = 0,
    ) -> None:
        self.store = store
        self.executor = executor
        self.retries = retries
        self.backoff_s = backoff_s
        self.sleep = sleep
        self._rng = random.Random(seed)

    def run(self, incident_id: str, step: StepRequest, *, key: str, now: float,
            dry_run: bool = False) -> ActionResult:
        fresh = self.store.record_intent(ActionRun(key, incident_id, step.action, step.target,
                                                   now, dry_run=dry_run,
                                                   params=dict(step.params),
                                                   timeout_s=step.timeout_s))
        if not fresh:
            existing = self.store.get_run(key)
            if existing is not None and existing.result is not None:
                return existing.result
            if existing is not None:  # an intent left by a crash: look before acting
                return self._settle(existing, now).result
        result = self._execute(step, key, dry_run)
        self.store.record_result(key, result, now)
        return result

    def _execute(self, step: StepRequest, key: str, dry_run: bool) -> ActionResult:
        attempt = 0
        while True:
            try:
                return self.executor.execute(step, key=key, dry_run=dry_run)
            except ActionError as exc:
                attempt += 1
                if not exc.retryable or attempt > self.retries:
                    return ActionResult(False, str(exc), exc.retryable, False)
                # Exponential backoff with full jitter.
                self.sleep(self._rng.uniform(0, self.backoff_s * 2 ** (attempt - 1)))

    def observe(self, run: ActionRun) -> Observed:
        """Ask the executor whether the run took effect; UNKNOWN when it cannot say."""
        if not isinstance(self.executor, Observer):
            return Observed.UNKNOWN
        try:
            return self.executor.observe(_request(run), key=run.key, since=run.intent_at)
        except ActionError:
            return Observed.UNKNOWN

    def _settle(self, run: ActionRun, now: float) -> Reconciled:
        seen = self.observe(run)
        decided = settle(run, seen)
        if decided.rerun or decided.result is None:
            result = self._execute(_request(run), run.key, run.dry_run)
        else:
            result = decided.result
        self.store.record_result(run.key, result, now)
        return Reconciled(run, seen, decided.rerun, result, decided.escalate)

    def reconcile(self, now: float) -> list[Reconciled]:
        """Settle every intent left without a result by a crash, oldest first."""
        return [self._settle(run, now) for run in self.store.unfinished_intents()]


def _request(run: ActionRun) -> StepRequest:
    return StepRequest(run.action, run.target, dict(run.params), run.timeout_s)
