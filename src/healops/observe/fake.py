"""A scripted source for tests and the simulator: each signal is released at its time.

>>> from healops.domain.signals import Sample, SeriesKey
>>> up = SeriesKey.of("up", service="api")
>>> source = FakeSource([(10.0, Sample(up, 1.0, 10.0)), (20.0, Sample(up, 0.0, 20.0))])
>>> [s.value for s in source(now=15.0)], [s.value for s in source(now=15.0)]
([1.0], [])
>>> [s.value for s in source(now=30.0)]
[0.0]

It can also fail on cue, to exercise a caller's retry path:

>>> broken = FakeSource([], fail_at={5.0})
>>> broken(now=5.0)
Traceback (most recent call last):
...
healops.observe.base.SourceError: fake source failing at 5.0
"""

from __future__ import annotations

from collections.abc import Iterable

from healops.domain.signals import Signal
from healops.observe.base import SourceError

__all__ = ["FakeSource"]


class FakeSource:
    """Releases ``(at, signal)`` pairs once ``now >= at``, each exactly once, in order."""

    def __init__(
        self,
        timeline: Iterable[tuple[float, Signal]],
        *,
        fail_at: Iterable[float] = (),
        retryable: bool = True,
    ) -> None:
        self._pending = sorted(timeline, key=lambda pair: pair[0])
        self._fail_at = set(fail_at)
        self._retryable = retryable
        self.polls: list[float] = []

    def __call__(self, now: float) -> list[Signal]:
        self.polls.append(now)
        if now in self._fail_at:
            raise SourceError(f"fake source failing at {now}", retryable=self._retryable)
        due = [signal for at, signal in self._pending if at <= now]
        self._pending = [(at, s) for at, s in self._pending if at > now]
        return due
