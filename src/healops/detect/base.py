"""Detector interfaces.

A ``Detector`` follows river's convention: ``score_one(x)`` returns how anomalous ``x`` is
(higher is more anomalous, in [0, 1]) *before* ``learn_one(x)`` folds it into the model.

A ``BankDetector`` does the same for many series at once with numpy: one value per
series per call, ``nan`` where a series has no value this time.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import numpy.typing as npt

__all__ = ["BankDetector", "Detector", "FloatArray"]

FloatArray = npt.NDArray[np.float64]


class Detector(Protocol):
    def score_one(self, x: float) -> float: ...

    def learn_one(self, x: float) -> None: ...


class BankDetector(Protocol):
    @property
    def size(self) -> int: ...

    def grow(self, size: int) -> None:
        """Make room for series ``[old size, size)``; new series start untrained."""

    def score_many(self, x: FloatArray) -> FloatArray: ...

    def learn_many(self, x: FloatArray) -> None: ...
