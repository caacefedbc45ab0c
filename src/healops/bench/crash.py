"""Crash test: SIGKILL the engine during remediations, restart it, and count the damage.

``healops bench crash --runs N`` injects N faults, one at a time, into the simulated estate
and lets an engine in a child process heal them. The estate is the world, and it lives in
this (parent) process: it outlives every engine, as production outlives a crashed healops.
The child runs ``bootstrap()`` on a SQLite file and the real loop; its executor and pager
are proxies that send each request here over a pipe, where a ``SimExecutor`` applies it.
That ``SimExecutor`` is replaced whenever the child dies, because an executor's memory of
idempotency keys lives in the engine's process and dies with it.

Because every action reaches the parent *after* the journal committed its intent, the
parent can kill the child exactly between intent and result: before applying the effect
(``intent``) or after applying it but before answering (``effect``). It also kills at
random moments during a tick (``step``, often in the middle of a SQLite write), during an
approval, and during the recovery that follows a kill. Where kills land is drawn from the
seed; the exact instant of a timed kill depends on the machine.

At the end it counts, from the world's side:

- ``duplicate_executions``: changes applied more than once under one idempotency key
  (the estate records each key it applied, ``Estate.effects``);
- ``lost_incidents``: injected faults with no incident in the store covering them;
- ``unreconciled``: journalled intents still without a result.

``python -m healops.bench.crash --child --fds R,W`` is the child's entry point.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

__all__ = ["CrashReport", "main", "run_crash_bench"]

TICK_S = 10.0
WARMUP_S = 1200.0
MAX_EPISODE_S = 2 * 3600.0
APPROVE_AFTER_S = 300.0  # the on-call human approves a pending action after this
FIX_AFTER_S = 1200.0  # and fixes an escalated fault by hand after this
QUIET_S = 3600.0  # between incidents, so per-target rate limits do not carry over
FAULTS = ("crashloop_after_deploy", "bad_deploy_errors", "disk_filling", "cert_expiring",
          "memory_leak", "bad_replica", "traffic_surge", "slow_dependency")
KILL_CHANCE = 0.6  # per run
KILLS = {"intent": 3, "effect": 3, "step": 2, "approval": 1}  # where, by weight
RECOVERY_KILL_CHANCE = 0.2  # after a kill, kill the recovery that follows as well
REPLY_TIMEOUT_S = 120.0


@dataclass
class CrashReport:
    runs: int
    kills: int
    duplicate_executions: int
    lost_incidents: int
    unreconciled: int
    kills_between_intent_and_result: int = 0
    kills_during_recovery: int = 0
    kills_by_kind: dict[str, int] = field(default_factory=dict)
    executions: int = 0
    reconciled_applied: int = 0
    reconciled_rerun: int = 0
    reconciled_unknown: int = 0
    restored_incidents: int = 0
    fixed_after_escalation: int = 0  # a person fixed it by hand after the engine paged
    fixed_at_timeout: int = 0  # nobody had fixed it after MAX_EPISODE_S: the engine lost it
    incidents: int = 0
    open_at_end: int = 0
    seed: int = 0
    wall_s: float = 0.0


# ---- the child: one engine process -------------------------------------------------------
class _Link:
    """The child's end of the pipes: a request waits for its answer."""

    def __init__(self, incoming: Connection, outgoing: Connection) -> None:
        self.incoming, self.outgoing = incoming, outgoing

    def ask(self, *msg: Any) -> Any:
        self.outgoing.send(msg)
        return self.incoming.recv()

    def tell(self, *msg: Any) -> None:
        self.outgoing.send(msg)


class _RemoteExecutor:
    """Executes in the world (the parent). The world answers after applying the change."""

    def __init__(self, link: _Link) -> None:
        self.link = link

    def execute(self, step: Any, *, key: str, dry_run: bool = False) -> Any:
        from healops.act.base import ActionError

        kind, value, retryable = self.link.ask("execute", step, key, dry_run)
        if kind == "error":
            raise ActionError(value, retryable=retryable)
        return value

    def observe(self, step: Any, *, key: str, since: float) -> Any:
        return self.link.ask("observe", step, key, since)[1]


class _RemotePager:
    def __init__(self, link: _Link) -> None:
        self.link = link

    def page(self, escalation: Any) -> None:
        self.link.tell("page", escalation.kind, escalation.incident_id)


class _Clock:
    def __init__(self, now: float) -> None:
        self.t = now

    def now(self) -> float:
        return self.t


def _child(fds: str) -> int:
    read_fd, write_fd = (int(x) for x in fds.split(","))
    link = _Link(Connection(read_fd, writable=False), Connection(write_fd, readable=False))
    from healops.bootstrap import bootstrap
    from healops.config.load import default_config
    from healops.config.models import ServiceConfig, TopologyConfig
    from healops.domain.signals import MetricBatch
    from healops.lab.estate import default_specs
    from healops.store.sqlalchemy import SqlAlchemyStore

    msg = link.incoming.recv()  # a standby waits here, imports done, until it is needed
    if msg[0] != "start":
        return 0
    _, url, now = msg
    topo = TopologyConfig(services=[ServiceConfig(
        name=s.name, depends_on=list(s.depends_on), tier=s.tier, replicas=s.replicas,
        stateful=s.stateful) for s in default_specs()])
    config = default_config().model_copy(update={"topology": topo, "store_url": url})
    clock = _Clock(now)
    engine = bootstrap(config, executor=_RemoteExecutor(link), pager=_RemotePager(link),
                       store=SqlAlchemyStore(url), clock=clock)
    rec = engine.last_recovery
    link.tell("ready", [(str(r.seen), r.rerun) for r in rec.reconciled], len(rec.restored))
    keys: Any = None

    def summary() -> list[tuple[str, str, list[str]]]:
        return [(i.id, str(i.state), sorted(i.services))
                for i in engine.correlator.active.values()]

    while True:
        msg = link.incoming.recv()
        if msg[0] == "step":
            _, clock.t, new_keys, values, changes = msg
            keys = new_keys if new_keys is not None else keys
            engine.step([*changes, MetricBatch(clock.t, keys, values)], clock.t)
            link.tell("stepped", summary())
        elif msg[0] == "approve":
            _, iid, clock.t = msg
            link.tell("approved", engine.approve(iid, by="oncall", now=clock.t), summary())
        else:
            link.tell("stopped")
            return 0


# ---- the parent: the world, the on-call human, and the killer -----------------------------
class _Child:
    def __init__(self, workdir: Path, n: int) -> None:
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        self.log = workdir / f"child-{n}.log"
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "healops.bench.crash", "--child", "--fds",
                 f"{to_child_r},{from_child_w}"],
                pass_fds=(to_child_r, from_child_w), stdin=subprocess.DEVNULL,
                stdout=log, stderr=log)
        os.close(to_child_r)
        os.close(from_child_w)
        self.send_conn = Connection(to_child_w, readable=False)
        self.recv_conn = Connection(from_child_r, writable=False)

    def send(self, *msg: Any) -> None:
        self.send_conn.send(msg)

    def recv(self) -> Any:
        if not self.recv_conn.poll(REPLY_TIMEOUT_S):
            raise RuntimeError(f"the engine did not answer in {REPLY_TIMEOUT_S:.0f} s; "
                               f"see {self.log}")
        try:
            return self.recv_conn.recv()
        except EOFError:
            raise RuntimeError(f"the engine died by itself: {self.log.read_text()[-3000:]}"
                               ) from None

    def kill(self) -> None:
        self.proc.kill()  # SIGKILL
        self.proc.wait()
        self.close()

    def close(self) -> None:
        self.send_conn.close()
        self.recv_conn.close()


class _World:
    def __init__(self, workdir: Path, seed: int) -> None:
        from healops.clock import SimClock
        from healops.lab.estate import Estate

        self.workdir = workdir
        self.url = f"sqlite:///{workdir / 'healops.db'}"
        self.clock = SimClock()
        self.estate = Estate(seed=seed * 7919 + 1, start=self.clock.now())
        self.faults_rng = random.Random(seed)
        self.kill_rng = random.Random(seed * 31 + 7)
        self.report = CrashReport(0, 0, 0, 0, 0, seed=seed)
        self.changes: list[Any] = []
        self.active: list[tuple[str, str, list[str]]] = []
        self.trap = ""  # where the next kill lands: a KILLS kind, or "recovery"
        self.countdown = 0  # for a "step" kill: ticks to wait
        self._spawned = 0
        self.standby = self._spawn()
        self.child: _Child | None = None
        self._sent_keys: Any = None
        self._replay = False
        self.start()

    def _spawn(self) -> _Child:
        self._spawned += 1
        return _Child(self.workdir, self._spawned)

    # ---- engine lifecycle -----------------------------------------------------------------
    def start(self) -> None:
        from healops.lab.executor import SimExecutor

        while True:
            self.child, self.standby = self.standby, self._spawn()
            self.executor = SimExecutor(self.estate, self.clock.now)  # memory starts empty
            self._sent_keys, self._replay = None, True
            self.child.send("start", self.url, self.clock.now())
            if self.trap == "recovery" and self.kill_rng.random() < 0.5:
                time.sleep(self.kill_rng.uniform(0.0, 0.3))  # somewhere in bootstrap
                self._kill("recovery")
                continue
            reply = self._serve()
            if reply is None:
                continue
            for seen, rerun in reply[1]:
                self.report.reconciled_applied += seen == "applied"
                self.report.reconciled_rerun += rerun
                self.report.reconciled_unknown += seen == "unknown"
            self.report.restored_incidents += reply[2]
            if self.trap == "recovery":
                self.trap = ""
            return

    def _kill(self, kind: str) -> None:
        assert self.child is not None
        self.child.kill()
        self.child = None
        self.report.kills += 1
        self.report.kills_by_kind[kind] = self.report.kills_by_kind.get(kind, 0) + 1
        self.report.kills_between_intent_and_result += kind in ("intent", "effect")
        self.report.kills_during_recovery += self.trap == "recovery"
        self.trap = "recovery" if self.kill_rng.random() < RECOVERY_KILL_CHANCE else ""

    def _serve(self) -> Any:
        """Answer the child's requests until its reply; None when it was killed."""
        from healops.act.base import ActionError

        assert self.child is not None
        while True:
            msg = self.child.recv()
            if msg[0] == "execute":
                _, step, key, dry_run = msg
                if self.trap in ("intent", "recovery"):  # the intent is committed; no effect
                    self._kill(self.trap)
                    return None
                try:
                    answer: tuple[str, Any, bool] = (
                        "result", self.executor.execute(step, key=key, dry_run=dry_run), False)
                except ActionError as exc:
                    answer = ("error", str(exc), exc.retryable)
                if self.trap == "effect":  # the change is made; its result is never recorded
                    self._kill("effect")
                    return None
                self.child.send(*answer)
            elif msg[0] == "observe":
                if self.trap == "recovery":
                    self._kill("recovery")
                    return None
                _, step, key, since = msg
                self.child.send("observed", self.executor.observe(step, key=key, since=since))
            elif msg[0] == "page":
                pass  # the human reads the engine's incident states instead
            else:
                return msg

    def step(self, dt: float = TICK_S) -> None:
        now = self.clock.now()
        batch, changes = self.estate.tick(now)
        self.changes += changes
        while True:
            if self.child is None:
                self.start()
            assert self.child is not None
            sent = changes
            if self._replay:  # a new engine hears the last day's changes, as from a CMDB
                sent = [c for c in self.changes if c.ts >= now - 86_400.0]
            keys = None if batch.keys is self._sent_keys else batch.keys
            self.child.send("step", now, keys, batch.values, sent)
            self._sent_keys, self._replay = batch.keys, False
            self.countdown -= 1
            if self.trap == "step" and self.countdown < 0:
                time.sleep(self.kill_rng.uniform(0.0, 0.004))
                self._kill("step")
                continue
            reply = self._serve()
            if reply is not None:
                self.active = reply[1]
                break
        self.clock.advance(dt)

    def approve(self, iid: str) -> None:
        while True:
            if self.child is None:
                self.start()
            assert self.child is not None
            self.child.send("approve", iid, self.clock.now())
            if self.trap == "approval":
                time.sleep(self.kill_rng.uniform(0.0, 0.004))
                self._kill("approval")
                continue  # the approval may be lost with the engine: give it again
            reply = self._serve()
            if reply is not None:
                self.active = reply[2]
                return

    def stop(self) -> None:
        for child in (self.child, self.standby):
            if child is None:
                continue
            try:
                child.send("stop")
                child.proc.wait(timeout=REPLY_TIMEOUT_S)
            except (OSError, subprocess.TimeoutExpired):  # it died already, or hangs
                child.proc.kill()
                child.proc.wait()
            child.close()

    # ---- one remediation ------------------------------------------------------------------
    def episode(self) -> tuple[str, float, float]:
        from healops.lab.faults import make_fault

        if self.kill_rng.random() < KILL_CHANCE:
            self.trap = self.kill_rng.choices(list(KILLS), list(KILLS.values()))[0]
            self.countdown = self.kill_rng.randrange(30)
        name = self.faults_rng.choice(FAULTS)
        fault = make_fault(name, self.estate, self.faults_rng)
        start = self.clock.now()
        fault.inject(self.estate, start, self.faults_rng)
        seen: dict[str, float] = {}  # incident id -> when the human first saw it waiting
        while True:
            self.step()
            now = self.clock.now()
            for iid, state, services in self.active:
                since = seen.setdefault(iid + state, now)
                if state == "awaiting_approval" and now - since >= APPROVE_AFTER_S:
                    self.approve(iid)
                elif (state == "escalated" and now - since >= FIX_AFTER_S
                      and fault.service in services and fault.present(self.estate, now)):
                    fault.human_fix(self.estate, now)
                    self.report.fixed_after_escalation += 1
            if now - start >= MAX_EPISODE_S and fault.present(self.estate, now):
                fault.human_fix(self.estate, now)
                self.report.fixed_at_timeout += 1
            if not fault.present(self.estate, now) and not self.active:
                break
            if now - start >= MAX_EPISODE_S + 3600.0:
                break
        if self.trap in KILLS:  # the kill planned for this run had no place to land
            self.trap = ""
        end = self.clock.now()
        self._tidy(end)
        quiet_end = end + QUIET_S
        while self.clock.now() < quiet_end:
            self.step(TICK_S if self.active else 300.0)
        return fault.service, start, end


    def _tidy(self, now: float) -> None:
        """Between runs the on-call replaces what is left drained or broken (a runbook that
        escalated after its drain step, say), so that damage does not pile up across runs
        and every run starts from a healthy estate."""
        for st in self.estate.services.values():
            for inst in list(st.instances):
                if inst.drained or inst.own_errors > 0:
                    self.estate.replace(inst.name, now)


def run_crash_bench(runs: int, *, seed: int = 1, workdir: Path | None = None,
                    progress: Callable[[int], None] = lambda n: None) -> CrashReport:
    """Run the crash test; ``workdir`` keeps the SQLite file and the children's logs."""
    from healops.store.queries import IncidentQueries
    from healops.store.sqlalchemy import SqlAlchemyStore

    started = time.perf_counter()
    own_dir = workdir is None
    tmp = tempfile.TemporaryDirectory(prefix="healops-crash-") if own_dir else None
    where = Path(tmp.name) if tmp is not None else workdir
    assert where is not None
    world = _World(where, seed)
    try:
        end = world.clock.now() + WARMUP_S
        while world.clock.now() < end:  # the detectors learn their baselines
            world.step()
        injected = []
        for n in range(runs):
            injected.append(world.episode())
            world.report.runs += 1
            progress(n + 1)
    finally:
        world.stop()
    store = SqlAlchemyStore(world.url)
    incidents = IncidentQueries(store.engine).incidents(limit=1_000_000)
    rep = world.report
    rep.incidents = len(incidents)
    rep.lost_incidents = sum(1 for service, start, end in injected if not any(
        service in i.services and i.opened_at <= end
        and (i.resolved_at is None or i.resolved_at >= start) for i in incidents))
    rep.unreconciled = len(store.unfinished_intents())
    rep.open_at_end = sum(1 for i in incidents if i.state != "resolved")
    rep.executions = sum(world.estate.effects.values())
    rep.duplicate_executions = sum(n - 1 for n in world.estate.effects.values() if n > 1)
    rep.wall_s = round(time.perf_counter() - started, 1)
    store.engine.dispose()
    if tmp is not None:
        tmp.cleanup()
    return rep


def main(*, runs: int, seed: int, as_json: bool) -> int:
    """Run, print a table (or one JSON object); exit code 1 when anything was duplicated,
    lost or left unreconciled."""
    from rich.console import Console
    from rich.table import Table

    if runs < 1:
        Console(stderr=True).print("--runs must be at least 1")
        return 2
    rep = run_crash_bench(runs, seed=seed)
    bad = rep.duplicate_executions + rep.lost_incidents + rep.unreconciled
    if as_json:
        print(json.dumps(asdict(rep)))
        return 1 if bad else 0
    table = Table(title=f"Crash safety: {rep.runs} remediations, SIGKILL at random points")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for name in ("runs", "kills", "duplicate_executions", "lost_incidents", "unreconciled",
                 "kills_between_intent_and_result", "kills_during_recovery", "executions",
                 "reconciled_applied", "reconciled_rerun", "reconciled_unknown",
                 "restored_incidents", "fixed_after_escalation", "fixed_at_timeout",
                 "incidents", "open_at_end", "wall_s"):
        table.add_row(name, str(getattr(rep, name)))
    Console().print(table)
    return 1 if bad else 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"] and sys.argv[2:3] == ["--fds"] and len(sys.argv) == 4:
        sys.exit(_child(sys.argv[3]))
    sys.exit("usage: python -m healops.bench.crash --child --fds R,W (see healops bench crash)")
