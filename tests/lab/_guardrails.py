"""A small lab for guardrail scenarios: the simulated estate, its ``SimExecutor`` and the
engine built by the real ``bootstrap()`` with one policy the test chooses. Nobody plays the
on-call human unless the test does: pages are only collected, so what the engine did on its
own is all that happens to the estate.

The clock is a ``SimClock``; every time here is read from it.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from healops.bootstrap import bootstrap
from healops.clock import SimClock
from healops.config.load import default_config
from healops.config.models import HealopsConfig, ServiceConfig
from healops.domain.incidents import Incident, IncidentState
from healops.itsm.escalation import Escalation
from healops.lab.estate import Estate
from healops.lab.executor import SimExecutor
from healops.lab.faults import Fault, make_fault
from healops.loop import Engine
from healops.store.sqlalchemy import SqlAlchemyStore

__all__ = ["TICK", "Action", "Decided", "Lab"]

TICK = 10.0
# Long enough for the z-score rules' warm-up (detection.warmup_s, 600 s) and baselines.
WARMUP_S = 900.0


@dataclass(frozen=True)
class Action:
    """One action the executor applied to the estate."""

    action: str
    target: str
    at: float


@dataclass(frozen=True)
class Decided:
    """One policy decision, as the engine stored it, with the rule from the timeline."""

    action: str
    target: str
    verdict: str
    reason: str
    rule: str


class Lab:
    """The estate and the engine, stepped together on a simulated clock.

    ``policy`` and ``correlation`` replace keys of those default sections; ``faults``
    (diagnosis patterns) and ``runbooks`` are added to the defaults; the whole config is
    validated as a user's file would be.
    """

    def __init__(self, *, seed: int, policy: Mapping[str, Any] | None = None,
                 faults: Sequence[Mapping[str, Any]] = (),
                 runbooks: Sequence[Mapping[str, Any]] = (),
                 warmup_s: float = WARMUP_S,
                 correlation: Mapping[str, Any] | None = None) -> None:
        self.clock = SimClock()
        self.estate = Estate(seed=seed, start=self.clock.now())
        self.rng = random.Random(seed)
        base = default_config().model_dump()
        base["topology"] = {"services": [ServiceConfig(
            name=s.name, depends_on=list(s.depends_on), tier=s.tier, replicas=s.replicas,
            stateful=s.stateful).model_dump() for s in self.estate.specs]}
        base["policy"] = {**base["policy"], **(policy or {})}
        base["correlation"] = {**base["correlation"], **(correlation or {})}
        base["diagnosis"]["faults"] = [*base["diagnosis"]["faults"], *faults]
        base["runbooks"] = [*base["runbooks"], *runbooks]
        base["store_url"] = "sqlite://"
        self.config = HealopsConfig.model_validate(base)
        self.store = SqlAlchemyStore("sqlite://")
        self.actions: list[Action] = []
        self.pages: list[Escalation] = []
        executor = SimExecutor(self.estate, self.clock.now,
                               lambda a, t, now: self.actions.append(Action(a, t, now)))
        self.engine: Engine = bootstrap(self.config, executor=executor, pager=self,
                                        store=self.store)
        self.run(warmup_s)

    # ---- the pager port: pages are only kept ----------------------------------------
    def page(self, escalation: Escalation) -> None:
        self.pages.append(escalation)

    # ---- driving ----------------------------------------------------------------------
    @property
    def now(self) -> float:
        return self.clock.now()

    def tick(self) -> None:
        """One scrape: the clock moves on, the estate reports, the engine steps. Between
        ticks the clock reads the time of the last scrape, so what a test does there (inject,
        approve) lands just after it, as it would between a real engine's scrapes."""
        self.clock.advance(TICK)
        now = self.clock.now()
        batch, changes = self.estate.tick(now)
        self.engine.step([*changes, batch], now)

    def run(self, seconds: float) -> None:
        end = self.clock.now() + seconds
        while self.clock.now() < end:
            self.tick()

    def run_until(self, done: Callable[[], bool], *, limit_s: float, what: str) -> None:
        end = self.clock.now() + limit_s
        while not done():
            if self.clock.now() >= end:
                raise AssertionError(f"not within {limit_s:.0f}s: {what}\n{self.story()}")
            self.tick()

    def inject(self, fault: str, service: str) -> Fault:
        f = make_fault(fault, self.estate, self.rng, service=service)
        f.injected_at = self.clock.now()
        f.inject(self.estate, self.clock.now(), self.rng)
        return f

    # ---- what happened -----------------------------------------------------------------
    def incident(self, fault: Fault) -> Incident | None:
        """The first incident opened on the fault's service since it was injected."""
        found = [i for i in self.engine.incidents.values()
                 if fault.service in i.services and i.opened_at >= fault.injected_at]
        return min(found, key=lambda i: i.opened_at) if found else None

    def state(self, fault: Fault) -> IncidentState | None:
        inc = self.incident(fault)
        return inc.state if inc else None

    def settled(self, fault: Fault) -> bool:
        """The engine has decided about the fault's incident: acted, asked or escalated."""
        return self.state(fault) in (IncidentState.AWAITING_APPROVAL, IncidentState.ESCALATED,
                                     IncidentState.VERIFYING, IncidentState.RESOLVED)

    def quiet(self) -> bool:
        return not self.engine.correlator.active

    def decisions(self, fault: Fault) -> list[Decided]:
        inc = self.incident(fault)
        if inc is None:
            return []
        rules = [e.data.get("rule", "") for e in inc.timeline if e.kind == "decision"]
        stored = self.store.decisions(inc.id)
        assert len(stored) == len(rules), (stored, rules)
        return [Decided(a, t, v, r, rule) for (a, t, v, r), rule
                in zip(stored, rules, strict=True)]

    def actions_on(self, target: str, since: float = float("-inf")) -> list[str]:
        return [a.action for a in self.actions if a.target == target and a.at >= since]

    def pages_for(self, fault: Fault) -> list[Escalation]:
        inc = self.incident(fault)
        return [p for p in self.pages if inc is not None and p.incident_id == inc.id]

    def resolution(self, fault: Fault) -> str:
        """Why the fault's incident was resolved: the note of its last state change."""
        inc = self.incident(fault)
        notes = [e.message for e in inc.timeline if e.kind == "state"] if inc else []
        return notes[-1] if inc is not None and inc.state is IncidentState.RESOLVED else ""

    def story(self) -> str:
        """Every incident's timeline, for an assertion's message."""
        return "\n".join(f"{i.id} {i.state} {sorted(i.services)}\n" + "\n".join(
            f"  {e.ts - i.opened_at:7.0f}s {e.kind}: {e.message}" for e in i.timeline)
            for i in self.engine.incidents.values())
