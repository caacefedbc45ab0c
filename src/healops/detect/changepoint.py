"""``CusumDetector``: a two-sided CUSUM test for a lasting change in the mean.

Samples are standardised against a slowly updated baseline; the positive and negative
cumulative sums grow while the series stays on one side by more than ``drift`` deviations.
The score is the larger sum over ``threshold``; once it reaches 1 the change is accepted,
the sums restart and the baseline jumps to the new level.

>>> d = CusumDetector(grace_period=20)
>>> for i in range(60):
...     d.learn_one(10.0 + (0.5 if i % 2 else -0.5))
>>> [round(d.score_one(x), 2) for x in (10.0, 14.0)]
[0.0, 1.0]
"""

from __future__ import annotations

import math

__all__ = ["CusumDetector"]


class CusumDetector:
    """Two-sided CUSUM on standardised values; scores ``min(max(g+, g-) / threshold, 1)``."""

    def __init__(
        self,
        *,
        drift: float = 0.5,
        threshold: float = 5.0,
        alpha: float = 0.01,
        grace_period: int = 30,
    ) -> None:
        self.drift = drift
        self.threshold = threshold
        self.alpha = alpha
        self.grace_period = grace_period
        self.n_seen = 0
        self.mean = 0.0
        self.var = 0.0
        self.g_pos = 0.0
        self.g_neg = 0.0

    def _sums(self, x: float) -> tuple[float, float]:
        scale = math.sqrt(self.var) + 1e-9 * (1.0 + abs(self.mean))
        z = (x - self.mean) / scale
        return max(0.0, self.g_pos + z - self.drift), max(0.0, self.g_neg - z - self.drift)

    def score_one(self, x: float) -> float:
        if self.n_seen < self.grace_period:
            return 0.0
        g_pos, g_neg = self._sums(x)
        return min(max(g_pos, g_neg) / self.threshold, 1.0)

    def learn_one(self, x: float) -> None:
        if self.n_seen >= self.grace_period:
            self.g_pos, self.g_neg = self._sums(x)
            if max(self.g_pos, self.g_neg) >= self.threshold:
                # The change is real: restart the test from the new level.
                self.g_pos = self.g_neg = 0.0
                self.mean = x
        a = max(self.alpha, 1.0 / (self.n_seen + 1))
        d = x - self.mean
        self.mean += a * d
        self.var = (1.0 - a) * (self.var + a * d * d)
        self.n_seen += 1
