"""Injected time. Nothing else in healops reads the wall clock.

>>> clock = SimClock(start=100.0)
>>> clock.advance(5)
>>> clock.now()
105.0
"""

from __future__ import annotations

import time
from typing import Protocol

__all__ = ["Clock", "SimClock", "SystemClock"]


class Clock(Protocol):
    """Seconds since the Unix epoch, as a float."""

    def now(self) -> float: ...


class SystemClock:
    """The real wall clock, for production and the live lab."""

    def now(self) -> float:
        return time.time()


class SimClock:
    """A clock that only moves when told to, for the simulator and tests."""

    def __init__(self, start: float = 1_767_225_600.0) -> None:  # 2026-01-01T00:00:00Z
        self._now = float(start)

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a simulated clock never goes backwards")
        self._now += seconds

    def set(self, t: float) -> None:
        if t < self._now:
            raise ValueError("a simulated clock never goes backwards")
        self._now = float(t)
