"""The composition root: the one place where healops is wired together."""

from __future__ import annotations

from collections.abc import Callable

from healops.act.base import Executor
from healops.act.journal import ActionJournal
from healops.clock import Clock, SystemClock
from healops.config.models import HealopsConfig
from healops.diagnose.ranked import RankedDiagnoser
from healops.diagnose.symptoms import SymptomDiagnoser
from healops.itsm.escalation import Pager
from healops.loop import Engine
from healops.plan.runbooks import RunbookPlanner
from healops.policy.rules import RulePolicy
from healops.store.base import Store
from healops.store.sqlalchemy import SqlAlchemyStore

__all__ = ["bootstrap"]


def bootstrap(
    config: HealopsConfig,
    *,
    executor: Executor,
    pager: Pager,
    store: Store | None = None,
    wrap_store: Callable[[Store], Store] | None = None,
    clock: Clock | None = None,
) -> Engine:
    """``wrap_store`` decorates the store, e.g. ``healops.itsm.recorder.recording(config)``
    to keep ITSM records and the audit log from what the engine writes.

    Before the engine is returned it recovers from the store (``Engine.recover`` at
    ``clock.now()``; pass the clock it will be stepped with, the wall clock by default):
    intents left without a result by a crash are reconciled and incidents in flight are
    taken up again. On a fresh store that does nothing."""
    store = store if store is not None else SqlAlchemyStore(config.store_url)
    if wrap_store is not None:
        store = wrap_store(store)
    engine = Engine(
        config,
        store=store,
        journal=ActionJournal(store, executor),
        diagnoser=RankedDiagnoser(config.diagnosis) if config.diagnosis.rank
        else SymptomDiagnoser(config.diagnosis),
        planner=RunbookPlanner(),
        policy=RulePolicy(config.policy),
        pager=pager,
        topology=config.topology.build(),
    )
    engine.recover((clock or SystemClock()).now())  # before anything else runs
    # Silences made through the API outlive a restart: saved at every change, read back.
    saved = store.load_state(_SILENCES)
    if saved:
        engine.silences.restore(saved)
    engine.silences.on_change = lambda data, now: store.save_state(_SILENCES, data, now)
    return engine


_SILENCES = "silences"
