"""``EwmaDetector``: distance from an exponentially weighted mean, in weighted deviations.

>>> d = EwmaDetector(alpha=0.1, grace_period=5)
>>> for x in [10.0, 11.0, 9.0, 10.0, 10.5, 9.5, 10.0, 10.2]:
...     d.learn_one(x)
>>> d.score_one(10.1) < 0.1, d.score_one(30.0)
(True, 1.0)
"""

from __future__ import annotations

import math

__all__ = ["EwmaDetector"]


class EwmaDetector:
    """Scores ``min(|x - mean| / (std * z_cap), 1)``; 0 during the first ``grace_period``."""

    def __init__(self, *, alpha: float = 0.05, z_cap: float = 6.0, grace_period: int = 30) -> None:
        if not 0.0 < alpha <= 1.0:
            raise ValueError("alpha must be in (0, 1]")
        self.alpha = alpha
        self.z_cap = z_cap
        self.grace_period = grace_period
        self.n_seen = 0
        self.mean = 0.0
        self.var = 0.0

    def z(self, x: float) -> float:
        """How many weighted standard deviations ``x`` is from the weighted mean."""
        scale = math.sqrt(self.var) + 1e-9 * (1.0 + abs(self.mean))
        return abs(x - self.mean) / scale

    def score_one(self, x: float) -> float:
        if self.n_seen < self.grace_period:
            return 0.0
        return min(self.z(x) / self.z_cap, 1.0)

    def learn_one(self, x: float) -> None:
        # Average exactly while young, then forget at the configured rate.
        a = max(self.alpha, 1.0 / (self.n_seen + 1))
        d = x - self.mean
        self.mean += a * d
        self.var = (1.0 - a) * (self.var + a * d * d)
        self.n_seen += 1
