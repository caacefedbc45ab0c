"""``ThresholdDetector``: a static limit with hysteresis, the oldest alert there is.

It fires when a sample reaches ``upper`` (or falls to ``lower``) and only clears once the
value is back past ``clear_upper`` / ``clear_lower``, so a value hovering at the limit does
not flap.

>>> d = ThresholdDetector(upper=90.0, clear_upper=80.0)
>>> out = []
>>> for x in [50.0, 91.0, 85.0, 79.0, 85.0]:
...     out.append(d.score_one(x))
...     d.learn_one(x)
>>> out
[0.0, 1.0, 1.0, 0.0, 0.0]
"""

from __future__ import annotations

__all__ = ["ThresholdDetector"]


class ThresholdDetector:
    """Scores 1.0 while the series is past a limit (with hysteresis), else 0.0."""

    def __init__(
        self,
        *,
        upper: float | None = None,
        lower: float | None = None,
        clear_upper: float | None = None,
        clear_lower: float | None = None,
    ) -> None:
        if upper is None and lower is None:
            raise ValueError("give at least one of upper and lower")
        self.upper = upper
        self.lower = lower
        self.clear_upper = upper if clear_upper is None else clear_upper
        self.clear_lower = lower if clear_lower is None else clear_lower
        if upper is not None and self.clear_upper is not None and self.clear_upper > upper:
            raise ValueError("clear_upper must not be above upper")
        if lower is not None and self.clear_lower is not None and self.clear_lower < lower:
            raise ValueError("clear_lower must not be below lower")
        self.firing = False

    def _next(self, x: float) -> bool:
        high = self.upper is not None and x >= self.upper
        low = self.lower is not None and x <= self.lower
        if high or low:
            return True
        if not self.firing:
            return False
        still_high = self.clear_upper is not None and x > self.clear_upper
        still_low = self.clear_lower is not None and x < self.clear_lower
        return still_high or still_low

    def score_one(self, x: float) -> float:
        return 1.0 if self._next(x) else 0.0

    def learn_one(self, x: float) -> None:
        self.firing = self._next(x)
