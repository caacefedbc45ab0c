"""``ExhaustionDetector``: how soon a linear trend reaches a limit (``predict_linear``).

A least-squares line through recent samples (exponentially weighted, ``span`` samples) is
extrapolated to ``limit``: a disk filling to 100 %, or a certificate's remaining lifetime
falling to 0 (``rising=False``). The score rises from 0 (exhaustion further than
``horizon`` seconds away) to 1 (exhausted now).

>>> d = ExhaustionDetector(limit=100.0, horizon=24 * 3600.0, step_seconds=3600.0)
>>> for hour in range(48):
...     d.learn_one(40.0 + hour)          # one percent an hour
>>> round(d.seconds_to_exhaustion(88.0) / 3600.0, 1)
12.0
>>> round(d.score_one(88.0), 2)
0.5
>>> cert = ExhaustionDetector(limit=0.0, rising=False, horizon=7 * 86400.0,
...                           step_seconds=86400.0)
>>> for day in range(30):
...     cert.learn_one(40.0 - day)        # days of validity left, checked daily
>>> round(cert.seconds_to_exhaustion(10.0) / 86400.0, 1)
10.0
"""

from __future__ import annotations

import math

__all__ = ["ExhaustionDetector"]


class ExhaustionDetector:
    """Scores ``1 - time_to_limit / horizon`` (clipped to [0, 1]) along the recent trend."""

    def __init__(
        self,
        *,
        limit: float,
        horizon: float,
        step_seconds: float = 60.0,
        span: float = 60.0,
        rising: bool = True,
        grace_period: int = 10,
    ) -> None:
        if horizon <= 0.0 or step_seconds <= 0.0:
            raise ValueError("horizon and step_seconds must be positive")
        self.limit = limit
        self.rising = rising
        self.horizon = horizon
        self.step_seconds = step_seconds
        self.decay = 1.0 - 1.0 / span
        self.grace_period = grace_period
        self.n_seen = 0
        # Exponentially weighted sums of 1, t, x, t^2 and t x; t is in samples.
        self.s = [0.0, 0.0, 0.0, 0.0, 0.0]

    def slope(self) -> float:
        """The recent trend, in units per second (0 until there are two samples)."""
        w, st, sx, stt, stx = self.s
        den = w * stt - st * st
        if self.n_seen < 2 or den <= 1e-12 * max(w * stt, 1.0):
            return 0.0
        return (w * stx - st * sx) / den / self.step_seconds

    def seconds_to_exhaustion(self, x: float) -> float:
        """Seconds until the trend through the history and ``x`` reaches the limit."""
        slope = self.slope() if self.rising else -self.slope()
        gap = self.limit - x if self.rising else x - self.limit
        if gap <= 0.0:
            return 0.0
        return gap / slope if slope > 0.0 else math.inf

    def score_one(self, x: float) -> float:
        if self.n_seen < self.grace_period:
            return 0.0
        eta = self.seconds_to_exhaustion(x)
        return min(max(1.0 - eta / self.horizon, 0.0), 1.0)

    def learn_one(self, x: float) -> None:
        t = float(self.n_seen)
        w, st, sx, stt, stx = (v * self.decay for v in self.s)
        self.s = [w + 1.0, st + t, sx + x, stt + t * t, stx + t * x]
        self.n_seen += 1
