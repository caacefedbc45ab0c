"""A small driving loop for the simulated estate with the ITSM side wired in: the
recording store around the engine's store, the on-call pager, a fake notifier, and an
on-call human who acknowledges, approves and fixes on a timetable the test chooses."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from healops.bootstrap import bootstrap
from healops.clock import SimClock
from healops.config.itsm import ItsmConfig
from healops.config.load import default_config
from healops.config.models import ServiceConfig, TopologyConfig
from healops.domain.incidents import IncidentState
from healops.itsm.notify import FakeNotifier, PageGate, Router
from healops.itsm.oncall import OnCallPager
from healops.itsm.recorder import RecordingStore
from healops.lab.estate import Estate
from healops.lab.executor import SimExecutor
from healops.lab.faults import Fault, make_fault
from healops.loop import Engine
from healops.store.itsm_repo import ItsmRepository
from healops.store.sqlalchemy import SqlAlchemyStore

TICK = 10.0


@dataclass
class Human:
    ack_after_s: float | None = None  # None: never acknowledges
    approve_after_s: float = 120.0
    fix_after_s: float = 600.0
    acked: list[str] = field(default_factory=list)


class Sim:
    def __init__(self, itsm: ItsmConfig, *, seed: int = 3, human: Human | None = None) -> None:
        self.clock = SimClock()
        self.estate = Estate(seed=seed, start=self.clock.now())
        self.rng = random.Random(seed)
        self.human = human or Human()
        base = default_config()
        topo = TopologyConfig(services=[ServiceConfig(
            name=s.name, depends_on=list(s.depends_on), tier=s.tier, replicas=s.replicas,
            stateful=s.stateful, owner="core" if s.tier == 1 else "platform")
            for s in self.estate.specs])
        self.config = base.model_copy(update={"topology": topo, "store_url": "sqlite://"})
        self.inner = SqlAlchemyStore("sqlite://")
        self.repo = ItsmRepository(self.inner.engine)
        self.notifier = FakeNotifier()
        topology = topo.build()
        self.pager = OnCallPager(itsm, clock=self.clock, topology=topology,
                                 router=Router({"fake": self.notifier},
                                               PageGate(dedup_window_s=3600, rate_count=100,
                                                        rate_window_s=3600)),
                                 priority_of=self._priority, on_ack=self._acked)
        self.records = RecordingStore(self.inner, self.repo, itsm, topology=topology,
                                      runbooks=self.config.runbooks,
                                      listeners=[self.pager.on_itsm_event])
        self.pager._audit = self.records.audit
        self.engine: Engine = bootstrap(self.config, executor=SimExecutor(self.estate,
                                                                          self.clock.now),
                                        pager=self.pager, store=self.records)
        self.faults: list[Fault] = []
        self._done: set[str] = set()

    def _priority(self, incident_id: str) -> str:
        rec = self.records.incidents.get(incident_id)
        return rec.priority if rec else ""

    def _acked(self, incident_id: str, by: str, now: float) -> None:
        self.records.acknowledged(incident_id, by=by, now=now)

    def inject(self, fault: str, service: str) -> Fault:
        f = make_fault(fault, self.estate, self.rng, service=service)
        f.injected_at = self.clock.now()
        f.inject(self.estate, self.clock.now(), self.rng)
        self.faults.append(f)
        return f

    def run(self, seconds: float) -> None:
        end = self.clock.now() + seconds
        while self.clock.now() < end:
            now = self.clock.now()
            batch, changes = self.estate.tick(now)
            self.engine.step([*changes, batch], now)
            self.records.tick(now)
            self.pager.tick(now)
            self._play_human(now)
            self.clock.advance(TICK)

    def _play_human(self, now: float) -> None:
        h = self.human
        for p in self.pager.pages.values():
            inc = self.engine.incidents.get(p.incident_id)
            if inc is None or not p.open:
                continue
            waited = now - p.opened_at
            if h.ack_after_s is not None and p.acked_at is None and waited >= h.ack_after_s:
                self.pager.ack(p.id, by="ana", now=now)
                h.acked.append(p.id)
            if (p.kind == "approval" and inc.state is IncidentState.AWAITING_APPROVAL
                    and waited >= h.approve_after_s):
                self.engine.approve(inc.id, by="ana", now=now)
            if p.kind == "escalation" and waited >= h.fix_after_s and p.id not in self._done:
                self._done.add(p.id)
                for f in self.faults:
                    if f.service in inc.services and f.present(self.estate, now):
                        f.human_fix(self.estate, now)
