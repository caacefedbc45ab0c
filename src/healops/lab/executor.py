"""The executor for the simulated estate: the same port as real substrates."""

from __future__ import annotations

from collections.abc import Callable

from healops.act.base import ActionError, Observed, StepRequest
from healops.domain.actions import ActionResult
from healops.lab.estate import Estate

__all__ = ["SimExecutor"]


class SimExecutor:
    """Applies actions to the estate. Idempotent per key; dry-run changes nothing.

    Its memory of keys lives in this object, as a real executor's lives in the engine's
    process: a new ``SimExecutor`` after a restart has forgotten them. ``observe`` reads the
    estate's own record of applied changes (``Estate.effects``), which survives.
    """

    def __init__(self, estate: Estate, now: Callable[[], float],
                 on_action: Callable[[str, str, float], None] = lambda a, t, n: None) -> None:
        self.estate = estate
        self.now = now
        self.on_action = on_action
        self._done: dict[str, ActionResult] = {}

    def execute(self, step: StepRequest, *, key: str, dry_run: bool = False) -> ActionResult:
        if key in self._done:
            prior = self._done[key]
            return ActionResult(prior.ok, prior.message, prior.retryable, changed=False)
        e, t, now = self.estate, step.target, self.now()
        svc = t if t in e.services else (t.rsplit("-", 1)[0] if e.instance(t) else "")
        if not svc:
            raise ActionError(f"unknown target {t!r}", retryable=False)
        actions: dict[str, Callable[[], bool]] = {
            "rollback": lambda: e.rollback(svc, now),
            "restart": lambda: e.restart(t, now),
            "rolling_restart": lambda: e.restart(svc, now),
            "scale_out": lambda: e.scale(svc, int(step.params.get("replicas", 1)), now),
            "scale_in": lambda: e.scale(svc, -int(step.params.get("replicas", 1)), now),
            "drain": lambda: e.drain(t),
            "enable": lambda: e.drain(t, enable=True),
            "replace": lambda: e.replace(t, now),
            "renew_cert": lambda: e.renew_cert(svc, now),
            "clean_disk": lambda: e.clean_disk(t),
            "failover": lambda: e.failover(svc, now),
        }
        fn = actions.get(step.action)
        if fn is None:
            raise ActionError(f"the simulated estate has no action {step.action!r}",
                              retryable=False)
        if dry_run:
            return ActionResult(True, "dry run", changed=False)
        self.on_action(step.action, t, now)
        ok = fn()
        if ok:
            self.estate.effects[key] = self.estate.effects.get(key, 0) + 1
        result = ActionResult(ok, "" if ok else f"{step.action} had nothing to do on {t}")
        self._done[key] = result
        return result

    def observe(self, step: StepRequest, *, key: str, since: float) -> Observed:
        """The estate applies a change and records its key in one step, so no record means
        the change never happened."""
        return Observed.APPLIED if key in self.estate.effects else Observed.ABSENT
