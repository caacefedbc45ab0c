"""In the simulated estate, the engine's diagnosis carries the metric ranking's evidence."""

from __future__ import annotations

import random

from healops.bootstrap import bootstrap
from healops.clock import SimClock
from healops.config.load import default_config
from healops.diagnose.ranked import RankedDiagnoser
from healops.diagnose.symptoms import SymptomDiagnoser
from healops.itsm.escalation import Escalation
from healops.lab.estate import Estate
from healops.lab.executor import SimExecutor
from healops.lab.faults import make_fault
from healops.lab.runner import _engine_config
from healops.loop import Engine
from healops.store.sqlalchemy import SqlAlchemyStore


class _Pages:
    def __init__(self) -> None:
        self.pages: list[Escalation] = []

    def page(self, escalation: Escalation) -> None:
        self.pages.append(escalation)


def _engine(rank: bool) -> tuple[Engine, Estate, SimClock]:
    clock = SimClock()
    estate = Estate(seed=7, start=clock.now())
    base = default_config()
    base = base.model_copy(update={"diagnosis": base.diagnosis.model_copy(
        update={"rank": rank})})
    cfg = _engine_config(estate, True, base)
    engine = bootstrap(cfg, executor=SimExecutor(estate, clock.now), pager=_Pages(),
                       store=SqlAlchemyStore("sqlite://"), clock=clock)
    return engine, estate, clock


def _run(engine: Engine, estate: Estate, clock: SimClock, seconds: float) -> None:
    end = clock.now() + seconds
    while clock.now() < end:
        batch, changes = estate.tick(clock.now())
        engine.step([*changes, batch], clock.now())
        clock.advance(10.0)


def test_a_bad_deploy_is_diagnosed_with_the_rankings_evidence() -> None:
    engine, estate, clock = _engine(rank=True)
    assert isinstance(engine.diagnoser, RankedDiagnoser)
    _run(engine, estate, clock, 1200)  # warm-up
    fault = make_fault("bad_deploy_errors", estate, random.Random(3))
    fault.inject(estate, clock.now(), random.Random(3))
    _run(engine, estate, clock, 600)
    diagnosed = [w.diagnosis for w in engine.work.values() if w.diagnosis is not None]
    assert diagnosed
    d = diagnosed[0]
    assert d.causes[0].component == fault.service and d.causes[0].runbook
    assert not d.ambiguous
    rank = [e for e in d.causes[0].evidence if e.kind == "rank"]
    assert rank and f"{fault.service} #1 " in rank[0].summary, rank
    assert engine.history is not None and len(engine.history) > 100
    assert not fault.present(estate, clock.now())  # healed as before


def test_the_plain_symptom_diagnoser_stays_selectable() -> None:
    engine, _, _ = _engine(rank=False)
    assert isinstance(engine.diagnoser, SymptomDiagnoser)
    assert engine.history is None
