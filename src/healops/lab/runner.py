"""Runs a scenario: injects faults into the estate one incident at a time, feeds the
engine the estate's telemetry, plays the on-call human, and keeps the ground-truth score.

The same faults (same seed) run twice: once with healops in charge and once with no
automation (every incident pages a human, who fixes it after a response time).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from healops.bootstrap import bootstrap
from healops.clock import SimClock
from healops.config.load import default_config
from healops.config.models import HealopsConfig, PolicyConfig, ServiceConfig, TopologyConfig
from healops.domain.incidents import IncidentState
from healops.itsm.escalation import Escalation
from healops.lab.estate import Estate
from healops.lab.executor import SimExecutor
from healops.lab.faults import Fault, make_fault
from healops.lab.scenario import Scenario
from healops.loop import Engine
from healops.store.sqlalchemy import SqlAlchemyStore

__all__ = ["EpisodeRecord", "RunResult", "run_scenario"]


@dataclass
class EpisodeRecord:
    faults: list[Fault]
    started: float
    detected_at: dict[int, float] = field(default_factory=dict)
    escalated: dict[int, bool] = field(default_factory=dict)
    escalation_complete: dict[int, bool] = field(default_factory=dict)
    human_fixed: dict[int, bool] = field(default_factory=dict)
    approved: dict[int, bool] = field(default_factory=dict)  # fixed after a human approved
    root_named: dict[int, bool] = field(default_factory=dict)  # diagnosis named its service
    pages: int = 0
    tickets: int = 0
    manual: int = 0
    downtime_s: dict[int, float] = field(default_factory=dict)
    actions: list[tuple[str, str, float, bool]] = field(default_factory=list)  # harmful flag
    ended: float = 0.0


@dataclass
class RunResult:
    episodes: list[EpisodeRecord]
    automated: bool
    wall_s: float = 0.0


class SimHuman:
    """The on-call engineer. Pages arrive; after a response time they act."""

    def __init__(self, scenario: Scenario, rng: random.Random) -> None:
        self.model = scenario.human
        self.rng = rng
        self.todo: list[tuple[float, Escalation]] = []

    def page(self, escalation: Escalation) -> None:
        mean = self.model.approval_mean_s if escalation.kind == "approval" \
            else self.model.response_mean_s
        sigma = self.model.response_sigma
        mu = math.log(mean) - sigma**2 / 2  # a lognormal with this mean
        delay = self.rng.lognormvariate(mu, sigma) if sigma > 0 else mean
        self.pending_page = escalation
        self.todo.append((self.now_fn() + delay, escalation))
        self.on_page(escalation)

    now_fn: Callable[[], float] = staticmethod(lambda: 0.0)
    on_page: Callable[[Escalation], None] = staticmethod(lambda e: None)


def _engine_config(estate: Estate, automated: bool, base: HealopsConfig) -> HealopsConfig:
    topo = TopologyConfig(services=[ServiceConfig(name=s.name, depends_on=list(s.depends_on),
                                                  tier=s.tier, replicas=s.replicas,
                                                  stateful=s.stateful) for s in estate.specs])
    policy = base.policy if automated else PolicyConfig(**{**base.policy.model_dump(),
                                                          "mode": "manual"})
    return base.model_copy(update={"topology": topo, "policy": policy, "store_url": "sqlite://"})


def run_scenario(scenario: Scenario, *, seed: int, incidents: int, automated: bool,
                 db_url: str = "sqlite://", config: HealopsConfig | None = None,
                 progress: Callable[[int], None] = lambda i: None) -> RunResult:
    clock = SimClock()
    estate = Estate(seed=seed * 7919 + 1, start=clock.now())
    fault_rng = random.Random(seed)  # the same faults with and without automation
    cfg = _engine_config(estate, automated, config or default_config())
    episode: EpisodeRecord | None = None
    human = SimHuman(scenario, random.Random(seed))
    human.now_fn = clock.now

    def on_action(action: str, target: str, now: float) -> None:
        if episode is None:
            return
        svc = target if target in estate.services else target.rsplit("-", 1)[0]
        # Harmful: the action touched a service that no injected fault was on.
        faulty = {f.service for f in episode.faults}
        episode.actions.append((action, target, now, svc not in faulty))

    def on_page(esc: Escalation) -> None:
        if episode is None:
            return
        episode.pages += 1
        if esc.kind == "escalation":
            episode.tickets += 1
        about = set(esc.services) or engine.incidents[esc.incident_id].services
        for i, f in enumerate(episode.faults):
            if f.service not in about:
                continue
            if esc.kind == "approval":
                episode.approved[i] = True
            else:
                episode.escalated[i] = True
                episode.escalation_complete[i] = esc.complete

    human.on_page = on_page
    executor = SimExecutor(estate, clock.now, on_action)
    engine: Engine = bootstrap(cfg, executor=executor, pager=human,
                               store=SqlAlchemyStore(db_url), clock=clock)
    tick = scenario.tick_s

    def step(dt: float = tick) -> None:
        now = clock.now()
        batch, changes = estate.tick(now)
        engine.step([*changes, batch], now)
        _human_tick(now)
        clock.advance(dt)

    def _human_tick(now: float) -> None:
        due = [t for t in human.todo if t[0] <= now]
        human.todo = [t for t in human.todo if t[0] > now]
        for _, esc in due:
            inc = engine.incidents.get(esc.incident_id)
            if inc is None or episode is None:
                continue
            if esc.kind == "approval" and inc.state is IncidentState.AWAITING_APPROVAL:
                # The human checks the suggestion against what they see, then approves it.
                episode.manual += 1
                engine.approve(inc.id, by="oncall", now=now)
                continue
            if inc.state is IncidentState.RESOLVED and esc.kind == "approval":
                continue
            fixed = False
            for i, f in enumerate(episode.faults):
                if f.service in inc.services and f.present(estate, now):
                    f.human_fix(estate, now)
                    episode.human_fixed[i] = True
                    fixed = True
            if fixed:
                episode.manual += 1

    end_warm = clock.now() + scenario.warmup_s
    while clock.now() < end_warm:
        step()
    weights = [m.weight for m in scenario.mix]
    episodes: list[EpisodeRecord] = []
    for n in range(incidents):
        entry = fault_rng.choices(scenario.mix, weights)[0]
        names = [entry.fault] if entry.fault else list(entry.pair or [])
        faults: list[Fault] = []
        used: set[str] = set()
        for name in names:
            only = entry.services[0] if len(entry.services) == 1 else None
            f = make_fault(name, estate, fault_rng, service=only, exclude=used)
            used |= {f.service, *estate.topology().neighbours(f.service)}
            faults.append(f)
        # Both runs of a seed see the same human delays for the same incident.
        human.rng = random.Random(seed * 100_003 + n)
        now = clock.now()
        episode = EpisodeRecord(faults, now)
        for f in faults:
            f.injected_at = now
            f.inject(estate, now, fault_rng)
            episode.downtime_s[faults.index(f)] = 0.0
        seen_incidents: set[str] = set(engine.incidents)
        while clock.now() - now < scenario.max_episode_s:
            step()
            t = clock.now() - tick
            for inc_id, inc in engine.incidents.items():
                if inc_id in seen_incidents or inc.state is IncidentState.SUPPRESSED:
                    continue
                for i, f in enumerate(faults):
                    if i not in episode.detected_at and f.service in inc.services:
                        episode.detected_at[i] = inc.opened_at
            for i, f in enumerate(faults):
                if f.cured_at is None:
                    if estate.services[f.service].degraded:
                        episode.downtime_s[i] += tick
                    if not f.present(estate, t):
                        f.cured_at = t
                        touched = any(a[1] in (f.service, f.target) for a in episode.actions)
                        f.cured_by = "human" if episode.human_fixed.get(i) else \
                            "engine" if touched else "self"
            if all(f.cured_at is not None and not estate.services[f.service].degraded
                   for f in faults) and not engine.correlator.active:
                break
        for f in faults:  # past the limit: a human finally cleans up
            if f.cured_at is None:
                f.human_fix(estate, clock.now())
                f.cured_at, f.cured_by = clock.now(), "timeout"
        named: set[str] = set()  # components the engine named as causes this episode
        for inc_id in set(engine.incidents) - seen_incidents:
            w = engine.work[inc_id]
            named |= {r.plan.signature.split(":", 1)[1] for r in w.runs}
            if w.diagnosis is not None:
                named |= {c.component for c in w.diagnosis.causes}
        episode.root_named = {i: f.service in named for i, f in enumerate(faults)}
        episode.ended = clock.now()
        episodes.append(episode)
        episode = None
        gap_end = clock.now() + scenario.gap_s
        while clock.now() < gap_end or (engine.correlator.active
                                        and clock.now() < gap_end + 1800):
            step()
        human.todo.clear()
        quiet_end = clock.now() + scenario.quiet_s
        while clock.now() < quiet_end:
            step(tick if engine.correlator.active else scenario.quiet_tick_s)
        progress(n + 1)
    return RunResult(episodes, automated)
