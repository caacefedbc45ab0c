"""``SeasonalResidualDetector``: distance from what this time of day (or week) usually is.

One profile value per phase of the period (``period=288`` is daily at 5-minute samples,
``2016`` weekly) is learned online by exponential smoothing. The residual from the profile
is scored in units of its own weighted deviation. Until ``warmup_periods`` whole periods
have been seen the score is 0, so a series cannot page before it has a profile.

>>> d = SeasonalResidualDetector(period=4, warmup_periods=2)
>>> for i in range(40):
...     d.learn_one([0.0, 10.0, 20.0, 10.0][i % 4])
>>> d.score_one(0.0) < 0.1, d.score_one(20.0)
(True, 1.0)
"""

from __future__ import annotations

import math

__all__ = ["SeasonalResidualDetector"]


class SeasonalResidualDetector:
    """Scores ``min(|x - profile[phase]| / (std * z_cap), 1)`` after the warm-up."""

    def __init__(
        self,
        *,
        period: int = 288,
        alpha: float = 0.1,
        residual_alpha: float = 0.01,
        z_cap: float = 6.0,
        warmup_periods: int = 2,
    ) -> None:
        if period < 1:
            raise ValueError("period must be at least 1")
        self.period = period
        self.alpha = alpha
        self.residual_alpha = residual_alpha
        self.z_cap = z_cap
        self.warmup_periods = warmup_periods
        self.n_seen = 0
        self.profile = [0.0] * period
        self.res_var = 0.0

    @property
    def phase(self) -> int:
        return self.n_seen % self.period

    def residual(self, x: float) -> float:
        return x - self.profile[self.phase]

    def score_one(self, x: float) -> float:
        if self.n_seen < self.warmup_periods * self.period:
            return 0.0
        scale = math.sqrt(self.res_var) + 1e-9 * (1.0 + abs(self.profile[self.phase]))
        return min(abs(self.residual(x)) / (scale * self.z_cap), 1.0)

    def learn_one(self, x: float) -> None:
        phase = self.phase
        cycles = self.n_seen // self.period
        if cycles == 0:
            self.profile[phase] = x
        else:
            r = x - self.profile[phase]
            # The residual spread is learned from the second period on, once a profile exists.
            b = max(self.residual_alpha, 1.0 / (self.n_seen - self.period + 1))
            self.res_var = (1.0 - b) * (self.res_var + b * r * r)
            self.profile[phase] += max(self.alpha, 1.0 / (cycles + 1)) * r
        self.n_seen += 1
