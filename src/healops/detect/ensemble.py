"""``EnsembleDetector``: the default detector, one series at a time.

It runs exactly the algorithm of ``EnsembleBank`` (a bank of one series), so a score seen
here is the score the vectorised bank gives the same series. Configured rules (a static
``ThresholdDetector``, an ``SloBurnRateDetector``, an ``ExhaustionDetector`` …) can be
added with ``rules``: the ensemble then reports the highest of all scores.

>>> import random
>>> from healops.detect.threshold import ThresholdDetector
>>> rng = random.Random(1)
>>> d = EnsembleDetector(rules=[ThresholdDetector(upper=1000.0)])
>>> for _ in range(500):
...     x = 50.0 + rng.gauss(0.0, 1.0)
...     _ = d.score_one(x)
...     d.learn_one(x)
>>> d.score_one(50.5) < 0.2, d.score_one(90.0) > 0.5, d.score_one(2000.0)
(True, True, 1.0)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from healops.detect.bank import EnsembleBank
from healops.detect.base import Detector

__all__ = ["EnsembleDetector"]


class EnsembleDetector:
    """The default detector: ``EnsembleBank``'s algorithm for one series, plus ``rules``."""

    def __init__(
        self,
        *,
        grace_period: int = 200,
        rules: Sequence[Detector] = (),
        bank: EnsembleBank | None = None,
    ) -> None:
        if bank is not None and bank.size != 1:
            raise ValueError("an EnsembleDetector's bank holds exactly one series")
        self.bank = bank if bank is not None else EnsembleBank(size=1, grace_period=grace_period)
        self.rules = list(rules)

    def score_one(self, x: float) -> float:
        score = float(self.bank.score_many(np.array([x], dtype=np.float64))[0])
        for rule in self.rules:
            score = max(score, rule.score_one(x))
        return score

    def learn_one(self, x: float) -> None:
        self.bank.learn_many(np.array([x], dtype=np.float64))
        for rule in self.rules:
            rule.learn_one(x)
