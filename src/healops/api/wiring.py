"""Wiring a served healops: the page log, an executor for an estate with none configured,
and the simulated estate as a live feed for ``healops serve --lab`` and the tests.

The lab feed is a ``Source``: each poll advances the estate to ``now`` and returns its
telemetry. Faults are injected on a schedule; one still present ``fix_after_s`` after
injection is fixed by a simulated human, as in ``healops lab sim``.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from healops.act.base import ActionError, StepRequest
from healops.bootstrap import bootstrap
from healops.clock import SimClock
from healops.config.load import default_config
from healops.config.models import HealopsConfig, ServiceConfig, TopologyConfig
from healops.domain.actions import ActionResult
from healops.domain.incidents import IncidentState
from healops.domain.signals import Signal
from healops.itsm.escalation import Escalation
from healops.itsm.recorder import RecordingStore, recording
from healops.lab.estate import Estate
from healops.lab.executor import SimExecutor
from healops.lab.faults import Fault, make_fault
from healops.loop import Engine
from healops.runtime import Runtime
from healops.store.sqlalchemy import SqlAlchemyStore

__all__ = [
    "LabFeed",
    "LabRuntime",
    "PageLog",
    "UnconfiguredExecutor",
    "awaiting_approval",
    "build_lab_runtime",
    "keep_records",
    "lab_config",
]


class PageLog:
    """A ``Pager`` that keeps the recent pages for the console and counts them."""

    def __init__(self, *, keep: int = 200) -> None:
        self.recent: deque[Escalation] = deque(maxlen=keep)
        self.pages = 0
        self.tickets = 0
        self.times: deque[float] = deque(maxlen=10_000)

    def page(self, escalation: Escalation) -> None:
        self.pages += 1
        if escalation.timeline:
            self.times.append(escalation.timeline[-1].ts)
        if escalation.kind == "escalation":
            self.tickets += 1
        self.recent.append(escalation)


class UnconfiguredExecutor:
    """Refuses every action, so the policy's 'auto' turns into an escalation, not a guess."""

    def execute(self, step: StepRequest, *, key: str, dry_run: bool = False) -> ActionResult:
        raise ActionError(f"no executor is configured for {step.action} {step.target}; "
                          "a human has to act", retryable=False)


@dataclass
class _Scheduled:
    at: float
    fault: str
    service: str | None = None


@dataclass
class LabFeed:
    """The simulated estate as a source, with a fault schedule."""

    estate: Estate
    rng: random.Random
    schedule: list[_Scheduled] = field(default_factory=list)
    fix_after_s: float = 3600.0
    active: list[Fault] = field(default_factory=list)

    def inject(self, name: str, now: float, *, service: str | None = None) -> Fault:
        fault = make_fault(name, self.estate, self.rng, service=service)
        fault.injected_at = now
        fault.inject(self.estate, now, self.rng)
        self.active.append(fault)
        return fault

    def __call__(self, now: float) -> Sequence[Signal]:
        due = [s for s in self.schedule if s.at <= now]
        self.schedule = [s for s in self.schedule if s.at > now]
        for s in due:
            self.inject(s.fault, now, service=s.service)
        still: list[Fault] = []
        for f in self.active:
            if not f.present(self.estate, now):
                continue
            if now - f.injected_at >= self.fix_after_s:
                f.human_fix(self.estate, now)
                continue
            still.append(f)
        self.active = still
        batch, changes = self.estate.tick(now)
        return [*changes, batch]


def lab_config(estate: Estate, base: HealopsConfig | None = None) -> HealopsConfig:
    """The engine's config for the estate: its topology, everything else from ``base``."""
    base = base or default_config()
    topo = TopologyConfig(services=[
        ServiceConfig(name=s.name, depends_on=list(s.depends_on), tier=s.tier,
                      replicas=s.replicas, stateful=s.stateful) for s in estate.specs])
    return base.model_copy(update={"topology": topo})


@dataclass
class LabRuntime:
    runtime: Runtime
    engine: Engine
    feed: LabFeed
    clock: SimClock
    pages: PageLog
    store: SqlAlchemyStore


def build_lab_runtime(
    *,
    seed: int = 1,
    db_url: str = "sqlite://",
    tick_s: float = 10.0,
    interval_s: float = 0.2,
    warmup_s: float = 1200.0,
    faults: Sequence[tuple[float, str, str | None]] = (),
    config: HealopsConfig | None = None,
) -> LabRuntime:
    """An engine over the simulated estate; each tick advances the simulated clock by
    ``tick_s``. ``faults`` are (seconds after warm-up, fault name, service or None)."""
    clock = SimClock()
    estate = Estate(seed=seed * 7919 + 1, start=clock.now())
    feed = LabFeed(estate, random.Random(seed))
    start = clock.now() + warmup_s
    feed.schedule = [_Scheduled(start + at, name, svc) for at, name, svc in faults]
    pages = PageLog()
    store = SqlAlchemyStore(db_url)
    cfg = lab_config(estate, config)
    engine = bootstrap(cfg, executor=SimExecutor(estate, clock.now), pager=pages, store=store,
                       wrap_store=recording(cfg), clock=clock)
    runtime = Runtime(engine, clock=clock, sources=[feed], interval_s=interval_s,
                      after_tick=lambda: clock.advance(tick_s))
    keep_records(runtime, engine)
    return LabRuntime(runtime, engine, feed, clock, pages, store)


def keep_records(runtime: Runtime, engine: Engine) -> None:
    """Advance the ITSM records' clocks (SLA breaches, closing) after every engine step."""
    recorder = engine.store
    if isinstance(recorder, RecordingStore):
        runtime.on_tick(lambda now, signals, after: recorder.tick(now))


def awaiting_approval(engine: Engine) -> list[str]:
    return [i for i, inc in engine.incidents.items()
            if inc.state is IncidentState.AWAITING_APPROVAL]
