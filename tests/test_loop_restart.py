"""The engine after a crash: intents without a result are reconciled, never blindly re-run,
and incidents in flight (approvals included) are taken up again from the store.

A crash is an exception that is not an ``ActionError`` raised inside the executor, before
or after the estate changed: the journal's intent is committed, its result is not, and the
engine object is dropped. A new engine is then bootstrapped on the same SQLite file with a
fresh executor (whose memory of keys died with the old one) over the same estate.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Literal

import pytest

from healops.act.base import StepRequest
from healops.bootstrap import bootstrap
from healops.clock import SimClock
from healops.config.load import default_config
from healops.config.models import HealopsConfig, ServiceConfig, TopologyConfig
from healops.domain.actions import ActionResult
from healops.domain.incidents import IncidentState
from healops.itsm.escalation import Escalation
from healops.lab.estate import Estate
from healops.lab.executor import SimExecutor
from healops.lab.faults import Fault, make_fault
from healops.loop import Engine, RunState
from healops.store.sqlalchemy import SqlAlchemyStore

TICK = 10.0


class Crash(BaseException):
    """The process dies here (not an ActionError: nothing catches it)."""


class Pages:
    def __init__(self) -> None:
        self.pages: list[Escalation] = []

    def page(self, escalation: Escalation) -> None:
        self.pages.append(escalation)


class CrashingExecutor:
    """The estate's executor, dying once at its first action: before or after the effect."""

    def __init__(self, inner: SimExecutor, when: Literal["before", "after"]) -> None:
        self.inner, self.when, self.keys = inner, when, list[str]()

    def execute(self, step: StepRequest, *, key: str, dry_run: bool = False) -> ActionResult:
        self.keys.append(key)
        if self.when == "before":
            raise Crash(key)
        self.inner.execute(step, key=key, dry_run=dry_run)
        raise Crash(key)


class BlindExecutor:
    """An executor that can act but cannot look at its target (no ``observe``)."""

    def __init__(self, inner: SimExecutor) -> None:
        self.inner = inner

    def execute(self, step: StepRequest, *, key: str, dry_run: bool = False) -> ActionResult:
        return self.inner.execute(step, key=key, dry_run=dry_run)


class World:
    """The estate and its clock outlive any engine; engines come and go on one store."""

    def __init__(self, tmp_path: Path, seed: int = 5) -> None:
        self.clock = SimClock()
        self.estate = Estate(seed=seed, start=self.clock.now())
        self.rng = random.Random(seed)
        self.url = f"sqlite:///{tmp_path / 'healops.db'}"
        base = default_config()
        topo = TopologyConfig(services=[ServiceConfig(
            name=s.name, depends_on=list(s.depends_on), tier=s.tier, replicas=s.replicas,
            stateful=s.stateful) for s in self.estate.specs])
        self.config: HealopsConfig = base.model_copy(update={"topology": topo,
                                                             "store_url": self.url})
        self.pages = Pages()

    def engine(self, executor: object | None = None) -> Engine:
        return bootstrap(self.config,
                         executor=executor or SimExecutor(self.estate, self.clock.now),  # type: ignore[arg-type]
                         pager=self.pages, store=SqlAlchemyStore(self.url), clock=self.clock)

    def tick(self, engine: Engine) -> None:
        now = self.clock.now()
        batch, changes = self.estate.tick(now)
        engine.step([*changes, batch], now)
        self.clock.advance(TICK)

    def run(self, engine: Engine, seconds: float) -> None:
        end = self.clock.now() + seconds
        while self.clock.now() < end:
            self.tick(engine)

    def inject(self, name: str, service: str) -> Fault:
        f = make_fault(name, self.estate, self.rng, service=service)
        f.injected_at = self.clock.now()
        f.inject(self.estate, self.clock.now(), self.rng)
        return f

    def until_crash(self, engine: Engine, limit_s: float = 1800.0) -> str:
        end = self.clock.now() + limit_s
        while self.clock.now() < end:
            try:
                self.tick(engine)
            except Crash as crash:
                self.clock.advance(TICK)  # the restart takes a moment
                return str(crash.args[0])
        raise AssertionError("the engine never acted")

    def until_quiet(self, engine: Engine, limit_s: float = 3 * 3600.0) -> None:
        end = self.clock.now() + limit_s
        while self.clock.now() < end:
            self.tick(engine)
            if not engine.correlator.active:
                return
        raise AssertionError(f"still active: {list(engine.correlator.active)}")


def _crash_during_cert_renewal(tmp_path: Path, when: Literal["before", "after"]
                               ) -> tuple[World, str, Fault]:
    w = World(tmp_path)
    first = w.engine()
    w.run(first, 1200.0)
    fault = w.inject("cert_expiring", "payments")
    crashing = CrashingExecutor(SimExecutor(w.estate, w.clock.now), when)
    first.journal.executor = crashing
    key = w.until_crash(first)
    assert key.endswith("/renew_cert") and crashing.keys == [key]
    assert w.estate.effects.get(key, 0) == (1 if when == "after" else 0)
    return w, key, fault


def test_an_action_that_took_effect_is_closed_as_done_and_not_run_again(tmp_path: Path) -> None:
    w, key, fault = _crash_during_cert_renewal(tmp_path, "after")
    second = w.engine()
    [r] = second.last_recovery.reconciled
    assert (r.run.key, str(r.seen), r.rerun, r.result.ok) == (key, "applied", False, True)
    iid = r.run.incident_id
    assert second.last_recovery.restored == (iid,)
    assert second.last_recovery.warm_detector  # baselines came back with the store
    inc = second.incidents[iid]
    assert inc.state is IncidentState.VERIFYING  # taken up where the journal says it was
    assert second.busy_targets == {"payments": iid}  # the per-target lock came back too
    assert len(second._target_actions[("payments", "renew_cert")]) == 1  # rate limits too
    w.until_quiet(second)
    assert w.estate.effects[key] == 1  # once, although the result was never recorded
    assert not fault.present(w.estate, w.clock.now())
    assert second.incidents[iid].state is IncidentState.RESOLVED
    assert "resolved by automation" in second.incidents[iid].timeline[-1].message
    store = SqlAlchemyStore(w.url)
    assert store.unfinished_intents() == [] and store.checkpoints() == []
    assert store.incident_states() == {iid: "resolved"}
    kinds = [e.kind for e in store.timeline(iid)]
    assert kinds.count("restart") == 1 and kinds.count("opened") == 1


def test_an_action_that_never_ran_runs_once_because_the_target_proves_it(tmp_path: Path
                                                                          ) -> None:
    w, key, fault = _crash_during_cert_renewal(tmp_path, "before")
    second = w.engine()
    [r] = second.last_recovery.reconciled
    assert (str(r.seen), r.rerun, r.result.ok) == ("absent", True, True)
    w.until_quiet(second)
    assert w.estate.effects[key] == 1
    assert not fault.present(w.estate, w.clock.now())
    assert second.incidents[r.run.incident_id].state is IncidentState.RESOLVED


@pytest.mark.parametrize("when", ["before", "after"])
def test_an_executor_that_cannot_look_never_re_runs_and_a_person_is_paged(
        tmp_path: Path, when: Literal["before", "after"]) -> None:
    w, key, fault = _crash_during_cert_renewal(tmp_path, when)
    second = w.engine(BlindExecutor(SimExecutor(w.estate, w.clock.now)))
    [r] = second.last_recovery.reconciled
    assert (str(r.seen), r.rerun, r.result.ok, r.escalate) == ("unknown", False, False, True)
    iid = r.run.incident_id
    assert second.last_recovery.escalated == (iid,)
    assert second.incidents[iid].state is IncidentState.ESCALATED
    [page] = w.pages.pages
    assert page.kind == "escalation" and "unknown" in page.reason
    w.run(second, 600.0)
    assert w.estate.effects.get(key, 0) == (1 if when == "after" else 0)  # never re-run
    assert SqlAlchemyStore(w.url).get_run(key).result.ok is False  # type: ignore[union-attr]


def test_an_approval_pending_before_a_restart_can_be_given_after_it(tmp_path: Path) -> None:
    w = World(tmp_path)
    first = w.engine()
    w.run(first, 1200.0)
    fault = w.inject("slow_dependency", "db")
    end = w.clock.now() + 1800.0
    while not any(i.state is IncidentState.AWAITING_APPROVAL for i in first.incidents.values()):
        assert w.clock.now() < end, "no approval was asked for"
        w.tick(first)
    [iid] = [i for i, inc in first.incidents.items()
             if inc.state is IncidentState.AWAITING_APPROVAL]
    w.tick(first)
    del first  # the process dies between two ticks; nothing was journalled
    second = w.engine()
    assert second.last_recovery.reconciled == ()
    assert iid in second.last_recovery.restored
    assert second.incidents[iid].state is IncidentState.AWAITING_APPROVAL
    assert [r.state for r in second.work[iid].runs] == [RunState.AWAITING_APPROVAL]
    assert second.approve(iid, by="oncall", now=w.clock.now())
    assert [k for k in w.estate.effects if k.startswith(iid)] == [f"{iid}/0/0/failover"]
    w.until_quiet(second)
    assert not fault.present(w.estate, w.clock.now())
    assert second.incidents[iid].state is IncidentState.RESOLVED
    # A new incident after the restart gets a new number, not one already in the store.
    w.inject("cert_expiring", "edge")
    w.until_quiet(second)
    assert sorted(SqlAlchemyStore(w.url).incident_states()) == sorted({iid, "INC-00002"})


def test_a_crash_between_the_checkpoint_and_the_record_is_rolled_forward(tmp_path: Path
                                                                         ) -> None:
    w = World(tmp_path)
    first = w.engine()
    w.run(first, 1200.0)
    w.inject("cert_expiring", "payments")
    store = first.store
    real = store.save_incident
    dying: list[int] = []

    def save_incident(incident, new_entries):  # type: ignore[no-untyped-def]
        if any(e.kind == "decision" for e in new_entries):
            dying.append(len(new_entries))
            raise Crash("after the checkpoint, before the record")
        real(incident, new_entries)

    store.save_incident = save_incident  # type: ignore[method-assign]
    with pytest.raises(Crash):
        w.run(first, 600.0)
    [iid] = first.incidents
    assert SqlAlchemyStore(w.url).unfinished_intents() == []  # it died before the intent
    second = w.engine()
    assert second.last_recovery.restored == (iid,)
    kinds = [e.kind for e in SqlAlchemyStore(w.url).timeline(iid)]
    assert "decision" in kinds  # written from the checkpoint
    w.until_quiet(second)
    assert [k for k in w.estate.effects if k.startswith(iid)] == [f"{iid}/0/0/renew_cert"]
    assert second.incidents[iid].state is IncidentState.RESOLVED


def test_the_detectors_come_back_warm_unless_their_rules_changed(tmp_path: Path) -> None:
    w = World(tmp_path)
    first = w.engine()
    w.run(first, 1200.0)
    assert w.engine().last_recovery.warm_detector
    det = w.config.detection
    w.config = w.config.model_copy(update={"detection": det.model_copy(
        update={"warmup_s": det.warmup_s + 60})})
    assert not w.engine().last_recovery.warm_detector  # other rules: start cold
