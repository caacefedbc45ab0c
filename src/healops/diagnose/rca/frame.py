"""Typed containers for metric windows: a frame maps ``(service, metric)`` to a 1-D series.

All series of one frame share a time grid: sample ``i`` was taken at ``start + i * step``.
Missing samples are NaN.

>>> f = MetricFrame.build({("api", "cpu"): [1.0, 2.0], ("db", "cpu"): [3.0, 4.0]}, start=60.0)
>>> f.services, len(f), f.time_of(1)
(('api', 'db'), 2, 61.0)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

__all__ = ["FloatArray", "MetricFrame", "MetricKey"]

FloatArray = npt.NDArray[np.float64]
MetricKey = tuple[str, str]  # (service, metric)


@dataclass(frozen=True)
class MetricFrame:
    """Read-only series per ``(service, metric)`` on one shared time grid."""

    series: Mapping[MetricKey, FloatArray]
    start: float = 0.0
    step: float = 1.0

    @classmethod
    def build(
        cls,
        series: Mapping[MetricKey, Iterable[float] | FloatArray],
        *,
        start: float = 0.0,
        step: float = 1.0,
    ) -> MetricFrame:
        """Copy ``series`` into read-only float arrays of equal length."""
        out: dict[MetricKey, FloatArray] = {}
        length: int | None = None
        for key, values in series.items():
            arr = np.array(values, dtype=np.float64).reshape(-1)
            if length is None:
                length = arr.size
            elif arr.size != length:
                raise ValueError(f"series {key!r} has {arr.size} samples, expected {length}")
            arr.setflags(write=False)
            out[key] = arr
        return cls(MappingProxyType(out), float(start), float(step))

    @property
    def services(self) -> tuple[str, ...]:
        return tuple(sorted({svc for svc, _ in self.series}))

    def __len__(self) -> int:
        for arr in self.series.values():
            return int(arr.size)
        return 0

    def __iter__(self) -> Iterator[MetricKey]:
        return iter(self.series)

    def get(self, key: MetricKey) -> FloatArray | None:
        return self.series.get(key)

    def time_of(self, index: int) -> float:
        return self.start + index * self.step

    def __reduce__(self) -> tuple[object, ...]:
        # a mapping proxy does not pickle: rebuild from a plain dict
        return (_restore, (dict(self.series), self.start, self.step))


def _restore(series: dict[MetricKey, FloatArray], start: float, step: float) -> MetricFrame:
    return MetricFrame.build(series, start=start, step=step)
