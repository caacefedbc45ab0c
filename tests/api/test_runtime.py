"""The runtime: ticks from the injected clock, drains the buffer and the sources, keeps
SLI history, survives a failing source, and serialises human decisions with the tick."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

import numpy as np

from healops.clock import SimClock
from healops.domain.signals import ChangeEvent, MetricBatch, SeriesKey, Signal
from healops.observe.base import SourceError
from healops.runtime import Runtime


class RecordingEngine:
    def __init__(self) -> None:
        self.steps: list[tuple[list[Signal], float]] = []
        self.inside = threading.Event()
        self.release = threading.Event()
        self.block = False

    def step(self, signals: Iterable[Signal], now: float) -> None:
        self.steps.append((list(signals), now))
        if self.block:
            self.inside.set()
            self.release.wait(5)

    def approve(self, incident_id: str, *, by: str, now: float) -> bool:
        self.steps.append(([], -now))  # marks when the approval ran, relative to steps
        return incident_id == "INC-1"

    def reject(self, incident_id: str, *, by: str, now: float, comment: str = "") -> bool:
        return False


def _batch(ts: float, errors: list[float]) -> MetricBatch:
    keys = tuple(SeriesKey.of("error_ratio", service="api", instance=f"api-{i}")
                 for i in range(len(errors)))
    return MetricBatch(ts, keys, np.array(errors, dtype=float))


def test_each_tick_feeds_buffer_and_sources_at_clock_time() -> None:
    clock = SimClock(start=100.0)
    engine = RecordingEngine()
    polled: list[float] = []

    def source(now: float) -> list[Signal]:
        polled.append(now)
        return [_batch(now, [0.01, 0.05])]

    rt = Runtime(engine, clock=clock, sources=[source], after_tick=lambda: clock.advance(10))
    rt.buffer.put(ChangeEvent(ts=99.0, service="api", kind="deploy", version="v2"))
    assert rt.tick() == 2 and rt.tick() == 1
    assert [now for _, now in engine.steps] == [100.0, 110.0] and polled == [100.0, 110.0]
    assert [type(s).__name__ for s in engine.steps[0][0]] == ["ChangeEvent", "MetricBatch"]
    # SLIs are kept per service: the worst instance's error ratio.
    assert [(p.ts, round(p.value, 3)) for p in rt.sli.get("api", "error_ratio")] == [
        (100.0, 0.05), (110.0, 0.05)]
    assert rt.ticks == 2 and rt.signals_seen == 3 and rt.last_tick_at == 110.0


def test_a_failing_source_is_counted_and_the_tick_goes_on() -> None:
    def broken(now: float) -> list[Signal]:
        raise SourceError("scrape timed out", retryable=True)

    engine = RecordingEngine()
    rt = Runtime(engine, clock=SimClock(), sources=[broken])
    assert rt.tick() == 0
    assert rt.source_errors == 1 and "scrape timed out" in rt.last_error
    assert len(engine.steps) == 1


def test_an_approval_waits_for_the_tick_in_progress() -> None:
    engine = RecordingEngine()
    rt = Runtime(engine, clock=SimClock(start=5.0))
    engine.block = True
    ticker = threading.Thread(target=rt.tick)
    ticker.start()
    assert engine.inside.wait(5)
    result: list[bool] = []
    approver = threading.Thread(target=lambda: result.append(rt.approve("INC-1", by="a")))
    approver.start()
    time.sleep(0.2)
    assert result == []  # still waiting for the step to finish
    engine.release.set()
    ticker.join(5)
    approver.join(5)
    assert result == [True]
    assert [now for _, now in engine.steps] == [5.0, -5.0]  # the step, then the approval


def test_the_background_loop_ticks_until_stopped() -> None:
    clock = SimClock()
    engine = RecordingEngine()
    rt = Runtime(engine, clock=clock, interval_s=0.01, after_tick=lambda: clock.advance(1))
    rt.start()
    deadline = time.monotonic() + 5
    while rt.ticks < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    rt.stop()
    assert not rt.running and rt.ticks >= 3
    after = rt.ticks
    time.sleep(0.05)
    assert rt.ticks == after
    times = [now for _, now in engine.steps]
    assert times == sorted(times) and len(set(times)) == len(times)
