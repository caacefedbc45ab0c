"""``RobustZDetector``: a z-score from the median and the MAD of a sliding window.

The median and the median absolute deviation ignore the outliers they are meant to find,
unlike a mean and a standard deviation. The window is a bounded ring of recent samples.

>>> d = RobustZDetector(window=50, grace_period=10)
>>> for i in range(50):
...     d.learn_one(100.0 + (i % 5))
>>> d.score_one(102.0), d.score_one(200.0)
(0.0, 1.0)
"""

from __future__ import annotations

from collections import deque

import numpy as np

__all__ = ["RobustZDetector"]

_MAD_TO_SIGMA = 1.4826  # the MAD of a normal distribution is 0.6745 sigma


class RobustZDetector:
    """Scores ``min(|x - median| / (1.4826 MAD * z_cap), 1)`` over the last ``window``."""

    def __init__(self, *, window: int = 288, z_cap: float = 6.0, grace_period: int = 30) -> None:
        if window < 3:
            raise ValueError("window must hold at least 3 samples")
        self.window = window
        self.z_cap = z_cap
        self.grace_period = grace_period
        self.values: deque[float] = deque(maxlen=window)

    def z(self, x: float) -> float:
        """The robust z-score of ``x`` against the window."""
        if not self.values:
            return 0.0
        v = np.fromiter(self.values, dtype=np.float64)
        median = float(np.median(v))
        mad = float(np.median(np.abs(v - median))) * _MAD_TO_SIGMA
        scale = mad if mad > 0.0 else 1e-9 * (1.0 + abs(median))
        return abs(x - median) / scale

    def score_one(self, x: float) -> float:
        if len(self.values) < self.grace_period:
            return 0.0
        return min(self.z(x) / self.z_cap, 1.0)

    def learn_one(self, x: float) -> None:
        self.values.append(float(x))
