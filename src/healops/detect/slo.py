"""``SloBurnRateDetector``: multi-window, multi-burn-rate SLO alerts (Google SRE workbook).

Each sample is the error ratio of one step (bad events over all events, in [0, 1]). The
burn rate of a window is its mean error ratio over the error budget ``1 - objective``. As
the workbook recommends, a long and a short window must both burn fast:

* page (score 1.0) at 14.4x over 1 h and 5 min, or at 6x over 6 h and 30 min;
* ticket (score 0.5) at 1x over 3 days and 6 h;
* otherwise 0.0.

A window that has not yet filled is averaged over what it has seen.

>>> d = SloBurnRateDetector(objective=0.999, step_seconds=60.0)
>>> for _ in range(120):
...     d.learn_one(0.0001)
>>> d.score_one(0.0001)
0.0
>>> for _ in range(60):
...     d.learn_one(0.02)             # 20x the budget for an hour
>>> d.score_one(0.02)
1.0
"""

from __future__ import annotations

from collections import deque

__all__ = ["BURN_RULES", "SloBurnRateDetector"]

HOUR = 3600.0
# (long window, short window, burn rate, score) in seconds, from the SRE workbook.
BURN_RULES: tuple[tuple[float, float, float, float], ...] = (
    (1 * HOUR, 5 * 60.0, 14.4, 1.0),
    (6 * HOUR, 30 * 60.0, 6.0, 1.0),
    (72 * HOUR, 6 * HOUR, 1.0, 0.5),
)


class SloBurnRateDetector:
    """Scores 1.0 for a page, 0.5 for a ticket and 0.0 otherwise (see the module doc)."""

    def __init__(self, *, objective: float = 0.999, step_seconds: float = 60.0) -> None:
        if not 0.0 < objective < 1.0:
            raise ValueError("objective must be in (0, 1)")
        if step_seconds <= 0.0:
            raise ValueError("step_seconds must be positive")
        self.objective = objective
        self.step_seconds = step_seconds
        self.lengths = sorted({max(1, round(w / step_seconds))
                               for rule in BURN_RULES for w in rule[:2]})
        self.history: deque[float] = deque(maxlen=self.lengths[-1])
        self.sums = {n: 0.0 for n in self.lengths}

    def _samples(self, seconds: float) -> int:
        return max(1, round(seconds / self.step_seconds))

    def burn_rate(self, seconds: float, x: float | None = None) -> float:
        """Burn rate over the last ``seconds`` (including ``x`` when given)."""
        n = self._samples(seconds)
        total = self.sums[n]
        seen = min(len(self.history), n)
        if x is not None:
            if seen == n:
                total -= self.history[-n]
            else:
                seen += 1
            total += x
        if seen == 0:
            return 0.0
        return total / seen / (1.0 - self.objective)

    def score_one(self, x: float) -> float:
        best = 0.0
        for long, short, rate, score in BURN_RULES:
            if self.burn_rate(long, x) >= rate and self.burn_rate(short, x) >= rate:
                best = max(best, score)
        return best

    def learn_one(self, x: float) -> None:
        for n in self.lengths:
            if len(self.history) >= n:
                self.sums[n] -= self.history[-n]
            self.sums[n] += x
        self.history.append(float(x))
