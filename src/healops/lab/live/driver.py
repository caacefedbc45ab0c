"""The live lab's real-time loop: every second, scrape and probe the estate, feed the
engine, and keep the scoreboard from the lab's own ground truth.

``LiveLab`` is the one place the live lab is wired: the estate, the load generator, the
telemetry, the executors (the local supervisor, HAProxy's runtime API, the lab CA and the
disk cleaner, routed by ``LiveExecutor``) and the engine from ``bootstrap()`` with a
``SystemClock``. The engine only ever sees metric batches and change events.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import TracebackType

import yaml

from healops.act.haproxy import HaproxyExecutor, unix_transport
from healops.act.local import LocalExecutor
from healops.bootstrap import bootstrap
from healops.clock import Clock, SystemClock
from healops.config.load import default_config, parse_config
from healops.config.models import HealopsConfig, RunbookConfig
from healops.domain.incidents import IncidentState
from healops.domain.signals import ChangeEvent, Signal
from healops.itsm.escalation import Escalation
from healops.lab.live.ca import CertIssuerExecutor
from healops.lab.live.diagnosis import TrailingSymptomDiagnoser
from healops.lab.live.estate import VOLUME_QUOTA_BYTES, LiveEstate
from healops.lab.live.faults import LiveFault, make_fault
from healops.lab.live.loadgen import DailyShape, LoadGenerator
from healops.lab.live.monitoring import Monitoring
from healops.lab.live.routing import ActionRecord, LiveExecutor
from healops.lab.live.telemetry import LiveTelemetry
from healops.loop import Engine
from healops.observe.tls_probe import TlsTarget
from healops.store.sqlalchemy import SqlAlchemyStore

__all__ = ["SCHEDULE", "FaultRun", "LiveLab", "RecordingPager", "live_config"]

# The surge goes first: healops treats traffic on a service it acted on in the last two
# minutes or so as its own side effect, and most other faults end in an action on api.
SCHEDULE = ("traffic_surge", "crash_loop", "cert_expiry", "bad_deploy", "disk_fill",
            "bad_replica", "security_anomaly", "memory_leak", "slow_dependency")
HEALTHY_STREAK_S = 2.0  # ground truth must hold this long to count as recovered


def live_config(lab: LiveEstate, *, haproxy: bool) -> HealopsConfig:
    """The defaults with the live overlay (``config.yaml`` beside this module) on top."""
    base = default_config().model_dump()
    text = resources.files("healops.lab.live").joinpath("config.yaml").read_text()
    overlay = yaml.safe_load(text)
    merged = {**base, **overlay, "topology": lab.topology().model_dump(),
              "store_url": "sqlite://"}
    # Symptoms of one fault fire a second or two apart across services (each has its own
    # scrape window); settling for 6 s lets a caller's errors be explained by its callee's.
    merged["diagnosis"] = {**base["diagnosis"], "settle_s": 6.0}
    cfg = parse_config(merged, source="healops/lab/live/config.yaml")
    if not haproxy:  # no load balancer to drain: replacing the replica is all there is
        runbooks = [_without_drain(r) if r.name == "replace-bad-replica" else r
                    for r in cfg.runbooks]
        cfg = cfg.model_copy(update={"runbooks": runbooks})
    return cfg


def _without_drain(r: RunbookConfig) -> RunbookConfig:
    return r.model_copy(update={"steps": [s for s in r.steps if s.action != "drain"]})


class RecordingPager:
    """Keeps every page; the live view and the scoreboard read them."""

    def __init__(self) -> None:
        self.pages: list[tuple[float, Escalation]] = []
        self.clock: Clock = SystemClock()

    def page(self, escalation: Escalation) -> None:
        self.pages.append((self.clock.now(), escalation))


@dataclass
class FaultRun:
    """One injected fault and what happened to it, in seconds from its injection."""

    fault: LiveFault
    detected_at: float | None = None
    healthy_since: float | None = None
    recovered_at: float | None = None
    escalated_at: float | None = None
    escalation: Escalation | None = None
    alerted_at: float | None = None  # first Alertmanager notification about the service
    ended_at: float | None = None
    actions: list[ActionRecord] = field(default_factory=list)
    incidents: set[str] = field(default_factory=set)
    stopped: bool = False  # a fault with a fixed duration has stopped by itself

    @property
    def done(self) -> bool:
        return self.ended_at is not None

    def outcome(self) -> str:
        f = self.fault
        touched = [a for a in self.actions if a.ok]
        if f.security:
            return "escalated" if self.escalated_at is not None and not touched else "failed"
        if self.recovered_at is not None and touched:
            return "healed"
        if self.escalated_at is not None:
            return "escalated"
        return "failed"

    def summary(self) -> dict[str, object]:
        t0 = self.fault.injected_at

        def rel(t: float | None) -> float | None:
            return None if t is None else round(t - t0, 1)

        out: dict[str, object] = {
            "fault": self.fault.name, "target": self.fault.target,
            "detected_s": rel(self.detected_at),
            "recovery_s": rel(self.recovered_at),
            "alerted_s": rel(self.alerted_at),
            "actions": [f"{a.action} {a.target}" + ("" if a.ok else " (failed)")
                        for a in self.actions],
            "outcome": self.outcome(),
        }
        if self.escalation is not None:
            out["escalation"] = {"reason": self.escalation.reason,
                                 "evidence": list(self.escalation.evidence[:4]),
                                 "complete": self.escalation.complete}
        return out


class LiveLab:
    """Start with ``start()``, advance with ``tick()`` (or ``run()``), stop with ``close()``."""

    def __init__(self, root: Path | None = None, *, haproxy: bool | None = None,
                 base_rps: float = 3.0, seed: int = 0, clock: Clock | None = None,
                 max_fault_s: float = 90.0, monitoring: bool = True) -> None:
        self.clock = clock or SystemClock()
        self.estate = LiveEstate(root, haproxy=haproxy)
        self.base_rps = base_rps
        self.seed = seed
        self.max_fault_s = max_fault_s
        self.pager = RecordingPager()
        self.pager.clock = self.clock
        self.runs: list[FaultRun] = []
        self.left_out: list[str] = []
        self._changes: list[ChangeEvent] = []
        self._lock = threading.Lock()
        self.ticks = 0
        self.started_at = 0.0
        self.engine: Engine
        self.telemetry: LiveTelemetry
        self.loadgen: LoadGenerator
        self.executor: LiveExecutor
        self.haproxy_exec: HaproxyExecutor | None = None
        self.want_monitoring = monitoring
        self.monitoring: Monitoring | None = None

    # ---- wiring ----------------------------------------------------------------------
    def start(self) -> None:
        e = self.estate
        if e.haproxy_binary is None:
            self.left_out.append("HAProxy: api replicas get traffic directly, bad replicas "
                                 "are replaced without draining (apt-get install haproxy)")
        e.start(now=self.clock.now())
        self.started_at = self.clock.now()
        sup, ca = e.supervisor, e.ca
        assert sup is not None and ca is not None
        if e.haproxy is not None:
            self.haproxy_exec = HaproxyExecutor(transport=unix_transport(e.haproxy.socket))
        api = e.services["api"]
        roots = {f"{s}-{i}": e.volume / f"{s}-{i}" for s, spec in e.services.items()
                 for i in range(spec.max_replicas)}
        local = LocalExecutor(sup, clock=self.clock, disk_roots=roots)
        certs = CertIssuerExecutor(ca, e.certs, {s for s, v in e.services.items() if v.tls},
                                   now=self.clock.now)
        self.executor = LiveExecutor(local=local, certs=certs, haproxy=self.haproxy_exec,
                                     backends={"api": "api"}, pid_of=self._pid_of,
                                     now=self.clock.now, on_change=self.record_change)
        self.telemetry = LiveTelemetry(
            instances=lambda: [(s, inst, e.url(s, i)) for s, inst, i in e.instances()],
            volume=lambda inst: str(e.volume / inst), quota_bytes=VOLUME_QUOTA_BYTES,
            tls=[TlsTarget("127.0.0.1", e.ports[s], "localhost", s)
                 for s, v in e.services.items() if v.tls],
            ca_file=str(ca.path), traffic_services={"api"})
        self.loadgen = LoadGenerator(entry=self._entry_urls, auth_url=e.url("auth"),
                                     ca_file=str(ca.path), seed=self.seed,
                                     shape=DailyShape(self.base_rps, day_s=600.0))
        config = live_config(e, haproxy=e.haproxy is not None)
        self.config = config
        self.engine = bootstrap(config, executor=self.executor, pager=self.pager,
                                store=SqlAlchemyStore("sqlite://"), clock=self.clock)
        self.engine.diagnoser = TrailingSymptomDiagnoser(self.engine.diagnoser)
        if self.want_monitoring:
            self.monitoring = Monitoring(e.dir / "monitoring", ca_file=str(ca.path))
            self.left_out.extend(self.monitoring.left_out)
            self.monitoring.start()
        self.loadgen.start()
        del api

    def _entry_urls(self) -> list[str]:
        e = self.estate
        if e.haproxy is not None:
            return [e.entry_url()]
        return [e.url("api", i) for i in range(e.replicas("api"))]

    def _pid_of(self, instance: str) -> int:
        view = self.telemetry.views.get(instance)
        return view.pid if view is not None and view.up else 0

    def record_change(self, change: ChangeEvent) -> None:
        with self._lock:
            self._changes.append(change)

    def server_ready(self, instance: str) -> bool | None:
        """Is the replica in the load balancer's rotation? None without HAProxy."""
        if self.haproxy_exec is None or not instance.startswith("api-"):
            return None
        try:
            return self.haproxy_exec.server_state("api", instance, timeout_s=1.0).mode == "ready"
        except Exception:  # noqa: BLE001 - an unreachable socket is simply "not ready"
            return False

    # ---- the loop --------------------------------------------------------------------
    def tick(self) -> None:
        e = self.estate
        assert e.supervisor is not None
        e.supervisor.supervise()  # the process manager restarts what died (Restart=always)
        self._drain_inbox()
        now = self.clock.now()
        batch = self.telemetry.poll(now)
        if self.monitoring is not None:
            self.monitoring.write_targets([(s, i, e.url(s, r)) for s, i, r in e.instances()])
        with self._lock:
            changes, self._changes = self._changes, []
        signals: list[Signal] = [*changes, batch]
        self.engine.step(signals, now)
        self._score(self.clock.now())
        self.ticks += 1

    def run(self, duration_s: float, *, schedule: Iterable[str] = (), warmup_s: float = 20.0,
            gap_s: float = 3.0, on_tick: Callable[[LiveLab], None] = lambda lab: None,
            stop_when_done: bool = False) -> None:
        """Tick every second for ``duration_s``; inject the scheduled faults one at a time
        (each once the previous one is over and no incident is being worked on)."""
        start = time.monotonic()
        todo = list(schedule)
        next_at = start + warmup_s
        while time.monotonic() - start < duration_s:
            t0 = time.monotonic()
            self.tick()
            if todo and t0 >= next_at and self.quiet():
                self.inject(todo.pop(0))
            if todo and not self.quiet():
                next_at = time.monotonic() + gap_s
            on_tick(self)
            if stop_when_done and not todo and self.quiet():
                break
            time.sleep(max(0.0, 1.0 - (time.monotonic() - t0)))
        for run in self.runs:
            if not run.done:
                self._end(run, self.clock.now())

    def quiet(self) -> bool:
        """No fault in progress and no incident being worked on: the next fault can go in.

        An escalated incident is a human's now, so it does not hold the schedule up."""
        return all(r.done for r in self.runs) and all(
            i.state is IncidentState.ESCALATED for i in self.engine.correlator.active.values())

    def inject(self, name: str) -> FaultRun:
        fault = make_fault(name)
        fault.inject(self, self.clock.now())
        run = FaultRun(fault)
        self.runs.append(run)
        return run

    def _drain_inbox(self) -> None:
        for path in sorted(self.estate.inbox.glob("*.fault")):
            name = path.read_text().strip()
            path.unlink()
            try:
                self.inject(name)
            except (ValueError, OSError) as exc:
                self.left_out.append(f"inject {name!r} failed: {exc}")

    # ---- the scoreboard (ground truth) -----------------------------------------------
    def _score(self, now: float) -> None:
        for run in self.runs:
            if run.done:
                continue
            f = run.fault
            t0 = f.injected_at
            run.actions = [a for a in self.executor.log if a.ts >= t0
                           and a.service == f.service]
            for inc in self.engine.incidents.values():
                if f.service not in inc.services:
                    continue
                fresh = [a for a in inc.anomalies.values()
                         if a.service == f.service and a.started_at >= t0 - 1.0]
                if fresh or inc.opened_at >= t0:
                    run.incidents.add(inc.id)
                    if run.detected_at is None:
                        run.detected_at = now
            for ts, esc in self.pager.pages:
                if ts >= t0 and esc.incident_id in run.incidents and run.escalated_at is None:
                    run.escalated_at, run.escalation = ts, esc
            if run.alerted_at is None and self.monitoring is not None \
                    and self.monitoring.receiver is not None:
                run.alerted_at = next((now for a in self.monitoring.receiver.received()
                                       if a.status == "firing" and a.starts_at >= t0 - 1
                                       and a.label("service") == f.service), None)
            if f.lasts_s and not run.stopped and now >= t0 + f.lasts_s:
                run.stopped = True
                f.end(self)
            if f.healthy(self, now):
                if run.healthy_since is None:
                    run.healthy_since = now
                if now - run.healthy_since >= HEALTHY_STREAK_S and run.recovered_at is None \
                        and (run.actions or f.lasts_s):
                    run.recovered_at = run.healthy_since
            else:
                run.healthy_since = None
            settled = run.recovered_at is not None and not self._open(run)
            escalated_only = run.escalated_at is not None and (
                f.security and now >= t0 + f.lasts_s or not f.security and not f.lasts_s)
            if settled or escalated_only or now - t0 > self.max_fault_s:
                self._end(run, now)

    def _open(self, run: FaultRun) -> bool:
        return any(self.engine.incidents[i].state not in (IncidentState.RESOLVED,
                                                          IncidentState.ESCALATED)
                   for i in run.incidents)

    def _end(self, run: FaultRun, now: float) -> None:
        run.ended_at = now
        if not run.stopped:
            run.stopped = True
            run.fault.end(self)

    def summary(self) -> dict[str, object]:
        return {"faults": [r.summary() for r in self.runs], "left_out": list(self.left_out)}

    # ---- teardown --------------------------------------------------------------------
    def close(self) -> None:
        if hasattr(self, "loadgen"):
            self.loadgen.stop()
        if self.monitoring is not None:
            self.monitoring.close()
        if hasattr(self, "telemetry"):
            self.telemetry.close()
        self.estate.close()

    def __enter__(self) -> LiveLab:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
