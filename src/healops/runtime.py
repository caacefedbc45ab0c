"""The runtime: owns an ``Engine`` and ticks it, so the API and the console have a live loop.

Every tick drains the ingest buffer and the configured sources and calls
``engine.step(signals, clock.now())``. Approvals and rejections take the same lock as the
tick, so a human decision never interleaves with a half-finished step. Time comes from the
injected ``Clock``; the background thread only waits between ticks.

>>> from healops.clock import SimClock
>>> class FakeEngine:
...     def __init__(self): self.seen = []
...     def step(self, signals, now): self.seen.append((list(signals), now))
>>> rt = Runtime(FakeEngine(), clock=SimClock(start=10.0))
>>> from healops.domain.signals import ChangeEvent
>>> rt.buffer.put(ChangeEvent(ts=9.0, service="api", kind="deploy", version="v2"))
>>> rt.tick()
1
>>> [(len(s), now) for s, now in rt.engine.seen], rt.ticks
([(1, 10.0)], 1)
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from healops.clock import Clock
from healops.config.load import load_config
from healops.config.models import HealopsConfig
from healops.config.reload import ReloadPlan, ReloadRefused, apply_reload, plan_reload
from healops.domain.signals import MetricBatch, Sample, Signal
from healops.observe.base import Source, SourceError
from healops.observe.buffer import BufferSource

__all__ = ["SLI_METRICS", "ConfigReloader", "Runtime", "SliPoint", "Steppable"]

log = logging.getLogger(__name__)

# The service-level indicators kept for the console's charts, and how instances combine.
SLI_METRICS: dict[str, str] = {"error_ratio": "max", "latency_p99_ms": "max", "up": "mean"}


class Steppable(Protocol):
    def step(self, signals: Iterable[Signal], now: float) -> None: ...


@dataclass(frozen=True, slots=True)
class SliPoint:
    ts: float
    value: float


class _SliHistory:
    """A short ring of per-service SLI values, seen on the way into the engine."""

    def __init__(self, points: int) -> None:
        self._points = points
        self._series: dict[tuple[str, str], deque[SliPoint]] = {}

    def observe(self, signal: Signal) -> None:
        if isinstance(signal, MetricBatch):
            per: dict[tuple[str, str], list[float]] = {}
            for key, value in zip(signal.keys, np.asarray(signal.values).tolist(), strict=True):
                if key.name in SLI_METRICS and key.service and value == value:  # not NaN
                    per.setdefault((key.service, key.name), []).append(float(value))
            for k, values in per.items():
                how = SLI_METRICS[k[1]]
                v = max(values) if how == "max" else sum(values) / len(values)
                self._add(k, SliPoint(signal.ts, v))
        elif isinstance(signal, Sample):
            if signal.key.name in SLI_METRICS and signal.key.service:
                self._add((signal.key.service, signal.key.name), SliPoint(signal.ts, signal.value))

    def _add(self, key: tuple[str, str], point: SliPoint) -> None:
        ring = self._series.get(key)
        if ring is None:
            ring = self._series[key] = deque(maxlen=self._points)
        ring.append(point)

    def get(self, service: str, metric: str) -> list[SliPoint]:
        return list(self._series.get((service, metric), ()))


class Runtime:
    """Runs the loop. ``tick()`` is one step; ``start()`` ticks every ``interval_s``.

    ``after_tick`` runs after each step under the lock (the lab advances its simulated
    clock there). ``sources`` are polled every tick besides the ingest buffer.
    """

    def __init__(
        self,
        engine: Any,
        *,
        clock: Clock,
        buffer: BufferSource | None = None,
        sources: Sequence[Source] = (),
        interval_s: float = 5.0,
        after_tick: Callable[[], None] | None = None,
        sli_points: int = 360,
    ) -> None:
        if interval_s <= 0:
            raise ValueError("interval_s must be positive")
        self.engine = engine
        self.clock = clock
        self.buffer = buffer if buffer is not None else BufferSource()
        self.sources = tuple(sources)
        self.interval_s = interval_s
        self.after_tick = after_tick
        self.lock = threading.RLock()
        self.sli = _SliHistory(sli_points)
        self.ticks = 0
        self.signals_seen = 0
        self.source_errors = 0
        self.last_tick_at: float | None = None
        self.last_error: str = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._listeners: list[Callable[[float, int, float], None]] = []

    # ---- the loop ----------------------------------------------------------------------
    def tick(self) -> int:
        """One engine step over everything that arrived; returns how many signals it saw."""
        with self.lock:
            now = self.clock.now()
            signals: list[Signal] = list(self.buffer(now))
            for source in self.sources:
                try:
                    signals.extend(source(now))
                except SourceError as exc:
                    self.source_errors += 1
                    self.last_error = f"source failed: {exc}"
                    log.warning("source failed (retryable=%s): %s", exc.retryable, exc)
            for sig in signals:
                self.sli.observe(sig)
            self.engine.step(signals, now)
            self.ticks += 1
            self.signals_seen += len(signals)
            self.last_tick_at = now
            if self.after_tick is not None:
                self.after_tick()
            for listener in self._listeners:
                listener(now, len(signals), self.clock.now())
        return len(signals)

    def on_tick(self, listener: Callable[[float, int, float], None]) -> None:
        """Call ``listener(tick_time, signal_count, clock_after)`` after every tick."""
        self._listeners.append(listener)

    def run_until(self, done: Callable[[], bool], *, max_ticks: int) -> bool:
        """Tick until ``done()`` holds; False when ``max_ticks`` pass first."""
        for _ in range(max_ticks):
            if done():
                return True
            self.tick()
        return done()

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the runtime is already running")
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="healops-runtime", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
                self.last_error = ""
            except Exception as exc:  # keep ticking: one bad step must not stop the loop
                self.last_error = f"tick failed: {exc!r}"
                log.exception("engine tick failed")
            self._stop.wait(self.interval_s)

    # ---- humans ------------------------------------------------------------------------
    def approve(self, incident_id: str, *, by: str) -> bool:
        with self.lock:
            return bool(self.engine.approve(incident_id, by=by, now=self.clock.now()))

    def reject(self, incident_id: str, *, by: str, comment: str = "") -> bool:
        with self.lock:
            return bool(self.engine.reject(incident_id, by=by, now=self.clock.now(),
                                           comment=comment))


class ConfigReloader:
    """Re-reads the config file a server started with and applies what may change live
    (``healops.config.reload``), between two ticks, audited when the store keeps an
    audit log. A file that does not validate raises ``ConfigError`` and changes nothing;
    one that touches restart-only sections raises ``ReloadRefused`` and changes nothing."""

    def __init__(self, runtime: Runtime, path: Path, loaded: HealopsConfig) -> None:
        self.runtime = runtime
        self.path = path
        self.loaded = loaded  # the file as last applied
        self._listeners: list[Callable[[HealopsConfig], None]] = []

    def on_reload(self, listener: Callable[[HealopsConfig], None]) -> None:
        """Call ``listener(running_config)`` after every reload that changed something."""
        self._listeners.append(listener)

    def reload(self, *, by: str) -> ReloadPlan:
        new = load_config(self.path)
        with self.runtime.lock:
            plan = plan_reload(self.loaded, new)
            if plan.needs_restart:
                raise ReloadRefused(plan.needs_restart)
            if plan.empty:
                return plan
            engine = self.runtime.engine
            engine.reconfigure(apply_reload(engine.config, new))
            audit = getattr(engine.store, "config_changed", None)
            if audit is not None:
                audit(self.loaded, new, by=by, now=self.runtime.clock.now(),
                      source=str(self.path))
            self.loaded = new
            for listener in self._listeners:
                listener(engine.config)
        log.info("config reloaded from %s by %s: %s", self.path, by, ", ".join(plan.changed))
        return plan
