"""A real supervisor of local child processes, and the executor that drives it.

Each service has named versions; a version is an argv list from config, never a shell
string. The only substitutions are the whole placeholders ``{replica}`` and ``{version}``,
filled with the supervisor's own integer and a validated version. Replicas run in their own
process group (so a stop reaches their children), are reaped, and are all killed on
``close()``. Deadlines use ``time.monotonic``: they bound waits, they are not timestamps.

Given a ``clock``, the supervisor also notes when it was made, when each replica started
and when a service last switched version, so that ``LocalExecutor.observe`` can tell the
journal after a crash whether an action took effect. Its memory is only as old as the
supervisor: one made after the intent (a new engine process) answers ``UNKNOWN``.

>>> import sys
>>> spec = ServiceSpec(name="sleeper", version="1",
...                    versions={"1": [sys.executable, "-c", "import time; time.sleep(60)"]})
>>> with LocalSupervisor([spec], settle_s=0.05) as sup:
...     sup.start("sleeper")
...     sup.status("sleeper").alive
True
1
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from healops.act import validate
from healops.act.base import ActionError, Observed, StepRequest
from healops.act.disk import clean_disk
from healops.clock import Clock
from healops.domain.actions import ActionResult

__all__ = ["LocalExecutor", "LocalSupervisor", "ServiceSpec", "ServiceStatus"]

MAX_REPLICAS = 64


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    """One supervised service, as config describes it."""

    name: str
    versions: Mapping[str, Sequence[str]]  # version -> argv
    version: str  # the version to start with
    replicas: int = 1
    cwd: Path | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    stop_timeout_s: float = 5.0

    def __post_init__(self) -> None:
        validate.name(self.name, field="service")
        for v, argv in self.versions.items():
            validate.version(v)
            if isinstance(argv, str) or not argv or not all(isinstance(a, str) for a in argv):
                raise ValueError(f"service {self.name} version {v}: argv must be a list of str")
        if self.version not in self.versions:
            raise ValueError(f"service {self.name}: version {self.version} is not configured")
        validate.integer(self.replicas, field="replicas", low=0, high=MAX_REPLICAS)


@dataclass(frozen=True, slots=True)
class ServiceStatus:
    name: str
    version: str
    previous_version: str | None
    replicas: int  # wanted
    alive: int
    pids: tuple[int, ...]
    restarts: int
    # With a clock: when each live replica (as ``pids``) started, and the last version switch.
    started_at: tuple[float, ...] | None = None
    switched_at: float | None = None


class _Service:
    def __init__(self, spec: ServiceSpec) -> None:
        self.spec = spec
        self.version = spec.version
        self.previous: str | None = None
        self.replicas = spec.replicas
        self.procs: list[subprocess.Popen[bytes]] = []
        self.restarts = 0
        self.started: weakref.WeakKeyDictionary[subprocess.Popen[bytes], float] = (
            weakref.WeakKeyDictionary())
        self.switched_at: float | None = None


class LocalSupervisor:
    """Starts, stops, scales and redeploys named services made of local processes."""

    def __init__(
        self,
        services: Iterable[ServiceSpec],
        *,
        log_dir: Path | None = None,
        settle_s: float = 0.2,
        clock: Clock | None = None,
    ) -> None:
        self._services = {s.name: _Service(s) for s in services}
        self._clock = clock
        # What this supervisor knows about its services begins here; None: it keeps no time.
        self.memory_since: float | None = clock.now() if clock is not None else None
        self._log_dir = log_dir
        self._settle_s = settle_s
        self._lock = threading.RLock()
        self._logs: list[IO[bytes]] = []

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> LocalSupervisor:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Kill every replica of every service and reap them."""
        with self._lock:
            for svc in self._services.values():
                for proc in svc.procs:
                    _terminate(proc, grace_s=1.0)
                svc.procs.clear()
            for log in self._logs:
                log.close()
            self._logs.clear()

    # -- reads -----------------------------------------------------------------------------

    def services(self) -> list[str]:
        return sorted(self._services)

    def status(self, name: str) -> ServiceStatus:
        with self._lock:
            svc = self._get(name)
            alive = [p for p in svc.procs if p.poll() is None]
            return ServiceStatus(
                name=name, version=svc.version, previous_version=svc.previous,
                replicas=svc.replicas, alive=len(alive), pids=tuple(p.pid for p in alive),
                restarts=svc.restarts,
                started_at=None if self._clock is None else tuple(svc.started[p] for p in alive),
                switched_at=svc.switched_at,
            )

    def supervise(self) -> int:
        """Reap dead replicas of running services and start replacements; return how many."""
        replaced = 0
        with self._lock:
            for svc in self._services.values():
                for i, proc in enumerate(svc.procs):
                    if proc.poll() is not None:
                        svc.procs[i] = self._spawn(svc, i)
                        svc.restarts += 1
                        replaced += 1
        return replaced

    # -- writes (each returns whether anything changed) ------------------------------------

    def start(self, name: str, *, timeout_s: float = 30.0) -> bool:
        with self._lock:
            svc = self._get(name)
            self._reap(svc)
            if len(svc.procs) >= svc.replicas:
                return False
            for i in range(len(svc.procs), svc.replicas):
                svc.procs.append(self._spawn(svc, i))
            self._settle(svc, svc.procs, timeout_s)
            return True

    def stop(self, name: str, *, timeout_s: float = 30.0) -> bool:
        with self._lock:
            svc = self._get(name)
            changed = any(p.poll() is None for p in svc.procs)
            deadline = time.monotonic() + timeout_s
            for proc in svc.procs:
                _terminate(proc, grace_s=_left(deadline, svc.spec.stop_timeout_s))
            svc.procs.clear()
            return changed

    def restart(self, name: str, *, timeout_s: float = 30.0) -> None:
        with self._lock:
            svc = self._get(name)
            self.stop(name, timeout_s=timeout_s / 2)
            self.start(name, timeout_s=timeout_s / 2)
            svc.restarts += 1

    def rolling_restart(self, name: str, *, timeout_s: float = 30.0) -> None:
        """Replace replicas one at a time, each new one settled before the next goes."""
        with self._lock:
            svc = self._get(name)
            self._reap(svc)
            deadline = time.monotonic() + timeout_s
            for i in range(svc.replicas):
                if i < len(svc.procs):
                    _terminate(svc.procs[i], grace_s=_left(deadline, svc.spec.stop_timeout_s))
                    svc.procs[i] = self._spawn(svc, i)
                else:
                    svc.procs.append(self._spawn(svc, i))
                self._settle(svc, [svc.procs[i]], _left(deadline, timeout_s))
            svc.restarts += 1

    def scale(self, name: str, replicas: int, *, timeout_s: float = 30.0) -> bool:
        with self._lock:
            svc = self._get(name)
            replicas = validate.integer(replicas, field="replicas", low=0, high=MAX_REPLICAS)
            self._reap(svc)
            if replicas == svc.replicas and len(svc.procs) == replicas:
                return False
            running = bool(svc.procs)
            svc.replicas = replicas
            while len(svc.procs) > replicas:  # scale in from the highest replica down
                _terminate(svc.procs.pop(), grace_s=svc.spec.stop_timeout_s)
            if running and len(svc.procs) < replicas:
                new = [self._spawn(svc, i) for i in range(len(svc.procs), replicas)]
                svc.procs.extend(new)
                self._settle(svc, new, timeout_s)
            return True

    def deploy(self, name: str, version: str, *, timeout_s: float = 30.0) -> bool:
        """Switch to ``version`` (rolling, if running); the old one becomes the rollback."""
        with self._lock:
            svc = self._get(name)
            version = validate.version(version)
            if version not in svc.spec.versions:
                raise validate.InvalidParameter(
                    f"version: {version!r} is not configured for {name}; "
                    f"known: {', '.join(sorted(svc.spec.versions))}"
                )
            if version == svc.version:
                return False
            svc.previous, svc.version = svc.version, version
            if svc.procs:
                try:
                    self.rolling_restart(name, timeout_s=timeout_s)
                except ActionError:
                    svc.version, svc.previous = svc.previous, svc.version
                    raise
                svc.restarts -= 1  # a deploy is not a restart
            if self._clock is not None:
                svc.switched_at = self._clock.now()
            return True

    def rollback(self, name: str, *, timeout_s: float = 30.0) -> str:
        """Deploy the previous version; return it."""
        with self._lock:
            svc = self._get(name)
            if svc.previous is None:
                raise validate.InvalidParameter(f"rollback: {name} has no previous version")
            previous = svc.previous
            self.deploy(name, previous, timeout_s=timeout_s)
            return previous

    def stop_process(self, name: str, pid: int, *, timeout_s: float = 10.0) -> None:
        """Kill one runaway replica (by pid, which must belong to ``name``) and replace it."""
        with self._lock:
            svc = self._get(name)
            for i, proc in enumerate(svc.procs):
                if proc.pid == pid and proc.poll() is None:
                    _terminate(proc, grace_s=min(timeout_s, svc.spec.stop_timeout_s))
                    svc.procs[i] = self._spawn(svc, i)
                    svc.restarts += 1
                    return
            raise validate.InvalidParameter(f"pid: {pid} is not a live replica of {name}")

    # -- internals -------------------------------------------------------------------------

    def _get(self, name: str) -> _Service:
        try:
            return self._services[validate.name(name)]
        except KeyError:
            raise validate.InvalidParameter(
                f"target: no service named {name!r}; known: {', '.join(self.services())}"
            ) from None

    def _reap(self, svc: _Service) -> None:
        for proc in svc.procs:
            proc.poll()
        svc.procs = [p for p in svc.procs if p.returncode is None]

    def _spawn(self, svc: _Service, replica: int) -> subprocess.Popen[bytes]:
        words = {"{replica}": str(replica), "{version}": svc.version}
        argv = [words.get(a, a) for a in svc.spec.versions[svc.version]]
        env = {**os.environ, **svc.spec.env, "HEALOPS_SERVICE": svc.spec.name,
               "HEALOPS_REPLICA": str(replica), "HEALOPS_VERSION": svc.version}
        out: IO[bytes] | int = subprocess.DEVNULL
        if self._log_dir is not None:
            log = (self._log_dir / f"{svc.spec.name}-{replica}.log").open("ab")
            self._logs.append(log)
            out = log
        try:
            proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                cwd=svc.spec.cwd, env=env, start_new_session=True, close_fds=True,
            )
        except OSError as exc:
            raise ActionError(f"{svc.spec.name}: cannot start {argv[0]!r}: {exc}",
                              retryable=False) from exc
        if self._clock is not None:
            svc.started[proc] = self._clock.now()
        return proc

    def _settle(
        self, svc: _Service, procs: Sequence[subprocess.Popen[bytes]], timeout_s: float
    ) -> None:
        """A replica that exits within the settle time failed to start."""
        deadline = time.monotonic() + min(self._settle_s, max(timeout_s, 0.0))
        while time.monotonic() < deadline:
            if any(p.poll() is not None for p in procs):
                break
            time.sleep(0.01)
        dead = [p for p in procs if p.poll() is not None]
        if dead:
            raise ActionError(
                f"{svc.spec.name} {svc.version}: replica exited with code {dead[0].returncode} "
                "right after starting", retryable=True,
            )


def _left(deadline: float, cap: float) -> float:
    return max(0.0, min(cap, deadline - time.monotonic()))


def _terminate(proc: subprocess.Popen[bytes], *, grace_s: float) -> None:
    """SIGTERM the process group, SIGKILL it after ``grace_s``, and reap the leader."""
    if proc.poll() is None:
        _signal_group(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            pass
    _signal_group(proc.pid, signal.SIGKILL)  # also catches children that outlived the leader
    proc.wait()


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


_ACTIONS = frozenset({
    "start", "stop", "restart", "rolling_restart", "scale", "scale_out", "scale_in",
    "deploy", "rollback", "kill_runaway", "clean_disk",
})
_OBSERVABLE = frozenset({
    "start", "stop", "restart", "rolling_restart", "scale", "deploy", "rollback",
})


def _seen(action: str, args: Mapping[str, Any], status: ServiceStatus,
          since: float) -> Observed:
    """What the status shows about ``action`` journalled at ``since``; no I/O."""
    def applied(yes: bool) -> Observed:
        return Observed.APPLIED if yes else Observed.ABSENT

    if action == "deploy":
        return applied(status.version == args["version"])
    if action == "scale":
        return applied(status.replicas == args["replicas"])
    if action == "start":
        return applied(status.alive >= status.replicas)
    if action == "stop":
        return applied(status.alive == 0)
    if action == "rollback":
        return applied(status.switched_at is not None and status.switched_at >= since)
    # restart, rolling_restart: judged by when the live replicas started
    if status.started_at is None or not status.started_at:
        return Observed.UNKNOWN
    fresh = [t >= since for t in status.started_at]
    if all(fresh):
        return Observed.APPLIED
    return Observed.ABSENT if not any(fresh) else Observed.UNKNOWN


class LocalExecutor:
    """The act port over a ``LocalSupervisor`` and a set of named disk roots.

    ``clean_disk`` targets a root by name (``disk_roots``); its params are ``older_than_s``,
    ``mode`` (``delete`` or ``compress``), optional ``subdir`` and ``suffix``.
    """

    def __init__(
        self,
        supervisor: LocalSupervisor,
        *,
        clock: Clock,
        disk_roots: Mapping[str, Path] | None = None,
        ledger: validate.IdempotencyLedger | None = None,
    ) -> None:
        self.supervisor = supervisor
        self._clock = clock
        self._roots = dict(disk_roots or {})
        self._ledger = ledger or validate.IdempotencyLedger()

    def execute(self, step: StepRequest, *, key: str, dry_run: bool = False) -> ActionResult:
        validate.check_key(key)
        action = validate.check_action(step, _ACTIONS, "LocalExecutor")
        t = validate.timeout(step)
        if action == "clean_disk":
            root = self._root(step.target)
            if dry_run:
                return clean_disk(root, step.params, now=self._clock.now(), dry_run=True)
            return self._ledger.apply(
                key, step, lambda: clean_disk(root, step.params, now=self._clock.now())
            )
        status = self.supervisor.status(step.target)  # validates the target
        args = self._args(action, step.params, status)
        if dry_run:
            return ActionResult(ok=True, changed=False,
                                message=f"dry run: would {action} {step.target} {args}".strip())
        return self._ledger.apply(key, step, lambda: self._run(action, step.target, args, t))

    def observe(self, step: StepRequest, *, key: str, since: float) -> Observed:
        """Compare the supervisor's state with what the step asked for.

        deploy, scale, start and stop compare the version, the wanted replica count or
        whether replicas run (``ABSENT`` when they differ: running them again is
        idempotent). rollback is applied when the service switched version at or after
        ``since``. restart and rolling_restart are applied when every live replica started
        at or after ``since`` and absent when none did; a mix, no live replica, or a
        supervisor without a clock is ``UNKNOWN``. So are scale_out / scale_in (relative to
        a count nobody kept), kill_runaway and clean_disk, and everything when the
        supervisor's memory begins after ``since`` (a new supervisor has only its config).
        """
        try:
            action = validate.check_action(step, _ACTIONS, "LocalExecutor")
            if action not in _OBSERVABLE:
                return Observed.UNKNOWN
            status = self.supervisor.status(step.target)
            args = self._args(action, step.params, status) if action in (
                "scale", "deploy") else {}
        except ActionError:  # unknown step, service or parameter: nothing to compare
            return Observed.UNKNOWN
        memory = self.supervisor.memory_since
        if memory is None or memory > since:
            return Observed.UNKNOWN
        return _seen(action, args, status, since)

    def _root(self, target: str) -> Path:
        validate.name(target)
        if target not in self._roots:
            raise validate.InvalidParameter(
                f"target: no disk root named {target!r}; known: {', '.join(sorted(self._roots))}"
            )
        return self._roots[target]

    @staticmethod
    def _args(action: str, params: Mapping[str, Any], status: ServiceStatus) -> dict[str, Any]:
        if action == "scale":
            return {"replicas": validate.integer(params.get("replicas"), field="replicas",
                                                 low=0, high=MAX_REPLICAS)}
        if action in ("scale_out", "scale_in"):
            by = validate.integer(params.get("by", 1), field="by", low=1, high=MAX_REPLICAS)
            wanted = status.replicas + by if action == "scale_out" else status.replicas - by
            return {"replicas": validate.integer(wanted, field="replicas", low=0,
                                                 high=MAX_REPLICAS)}
        if action == "deploy":
            return {"version": validate.version(params.get("version"))}
        if action == "kill_runaway":
            return {"pid": validate.integer(params.get("pid"), field="pid", low=1,
                                            high=2**22)}
        if action == "rollback" and status.previous_version is None:
            raise validate.InvalidParameter(f"rollback: {status.name} has no previous version")
        return {}

    def _run(self, action: str, target: str, args: dict[str, Any], t: float) -> ActionResult:
        sup = self.supervisor
        changed = True
        if action == "start":
            changed = sup.start(target, timeout_s=t)
        elif action == "stop":
            changed = sup.stop(target, timeout_s=t)
        elif action == "restart":
            sup.restart(target, timeout_s=t)
        elif action == "rolling_restart":
            sup.rolling_restart(target, timeout_s=t)
        elif action in ("scale", "scale_out", "scale_in"):
            changed = sup.scale(target, args["replicas"], timeout_s=t)
        elif action == "deploy":
            changed = sup.deploy(target, args["version"], timeout_s=t)
        elif action == "rollback":
            args["version"] = sup.rollback(target, timeout_s=t)
        elif action == "kill_runaway":
            sup.stop_process(target, args["pid"], timeout_s=t)
        status = sup.status(target)
        return ActionResult(
            ok=True, changed=changed,
            message=f"{action} {target}: version {status.version}, "
                    f"{status.alive}/{status.replicas} replicas alive",
        )
