"""The action journal: intent before, result after, never a blind re-run.

``run`` commits an intent under the idempotency key, executes, and commits the result.
If the key already has a result, that result is returned and nothing runs again. If it has
an intent but no result (a crash in between), the executor is asked again with the *same*
key: executors are idempotent per key, so a step that already took effect reports
``changed=False`` instead of acting twice.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from healops.act.base import ActionError, Executor, StepRequest
from healops.domain.actions import ActionResult, ActionRun
from healops.store.base import Store

__all__ = ["ActionJournal"]


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
                                                   now, dry_run=dry_run))
        if not fresh:
            existing = self.store.get_run(key)
            if existing is not None and existing.result is not None:
                return existing.result
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

    def reconcile(self, now: float) -> list[tuple[ActionRun, ActionResult]]:
        """Finish intents left without a result by a crash, through the same key."""
        done = []
        for run in self.store.unfinished_intents():
            step = StepRequest(run.action, run.target)
            result = self._execute(step, run.key, run.dry_run)
            self.store.record_result(run.key, result, now)
            done.append((run, result))
        return done
