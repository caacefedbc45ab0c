"""A bounded history of every metric series the engine sees, for diagnosis to read.

``SeriesHistory`` keeps the last ``capacity`` samples of every series of each
:class:`~healops.domain.signals.MetricBatch` in one ring buffer (a row per series, a column
per tick), so a tick costs one vectorised column write. A series absent from a batch gets
NaN for that tick; a series gone for a whole window is dropped when the buffer next wraps,
so memory stays bounded by the series seen within the window, not by every series ever seen.

``frame(start, end)`` hands out a :class:`~healops.diagnose.rca.frame.MetricFrame` of the
samples taken in ``[start, end]``, one series per ``(service, metric)``: instances of a
service are averaged (a service-level view; NaN only where no instance reported).

>>> import numpy as np
>>> from healops.domain.signals import MetricBatch, SeriesKey
>>> h = SeriesHistory(capacity=3)
>>> keys = (SeriesKey.of("cpu", service="db", instance="a"),
...         SeriesKey.of("cpu", service="db", instance="b"))
>>> for t in range(4):
...     h.observe(MetricBatch(10.0 * t, keys, np.array([t, t + 2.0])))
>>> f = h.frame(0.0, 100.0)
>>> len(f), f.start, f.step, f.get(("db", "cpu")).tolist()
(3, 10.0, 10.0, [2.0, 3.0, 4.0])
>>> len(h.frame(0.0, 15.0, limit=1)), len(h.frame(0.0, 5.0))
(1, 0)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from healops.diagnose.rca.frame import FloatArray, MetricFrame, MetricKey
from healops.domain.signals import MetricBatch, SeriesKey

__all__ = ["SeriesHistory"]


class SeriesHistory:
    """The last ``capacity`` samples of every series, in a ring buffer."""

    def __init__(self, capacity: int = 360) -> None:
        if capacity < 2:
            raise ValueError("a history needs room for at least two samples")
        self.capacity = capacity
        self._rows: dict[SeriesKey, int] = {}
        self._keys: list[SeriesKey] = []
        self._data: FloatArray = np.full((0, capacity), np.nan)
        self._ts: FloatArray = np.full(capacity, np.nan)
        self._pos = 0  # the column the next sample goes into
        self._count = 0  # samples held, at most ``capacity``
        self._layout: tuple[SeriesKey, ...] | None = None  # the last batch's keys
        self._layout_rows: np.ndarray = np.zeros(0, dtype=np.intp)

    def __len__(self) -> int:
        return self._count

    @property
    def series(self) -> int:
        """How many series the buffer holds (live or seen within the window)."""
        return len(self._keys)

    @property
    def nbytes(self) -> int:
        return int(self._data.nbytes + self._ts.nbytes)

    def observe(self, batch: MetricBatch) -> None:
        """Take one batch; its timestamps must not go backwards."""
        if self._count and batch.ts < self._ts[(self._pos - 1) % self.capacity]:
            return  # late or replayed: the window is in time order
        if self._pos == 0 and self._count == self.capacity:
            self._compact()  # the buffer wrapped: forget series gone for a whole window
        if batch.keys is not self._layout:
            self._layout_rows = np.fromiter((self._row(k) for k in batch.keys),
                                            dtype=np.intp, count=len(batch.keys))
            self._layout = batch.keys
        col = self._pos
        self._data[:, col] = np.nan
        self._data[self._layout_rows, col] = batch.values
        self._ts[col] = batch.ts
        self._pos = (col + 1) % self.capacity
        self._count = min(self._count + 1, self.capacity)

    def frame(self, start: float, end: float, *, limit: int | None = None) -> MetricFrame:
        """The samples taken in ``[start, end]`` (the last ``limit`` of them, if given),
        one series per ``(service, metric)``, instances averaged. The grid starts at the
        first sample; its step is the median spacing of the samples."""
        cols = self._columns(start, end)
        if limit is not None:
            cols = cols[max(0, cols.size - limit):]
        if cols.size == 0:
            return MetricFrame.build({})
        ts = self._ts[cols]
        step = float(np.median(np.diff(ts))) if ts.size > 1 else 1.0
        groups: dict[MetricKey, list[int]] = {}
        for row, key in enumerate(self._keys):
            if key.service:
                groups.setdefault((key.service, key.name), []).append(row)
        window = self._data[:, cols]
        present = np.isfinite(window)
        filled = np.where(present, window, 0.0)
        series: dict[MetricKey, FloatArray] = {}
        for group, rows in sorted(groups.items()):
            n = present[rows].sum(axis=0)
            if not n.any():
                continue  # nothing reported in this window
            total = filled[rows].sum(axis=0)
            series[group] = np.where(n > 0, total / np.maximum(n, 1), np.nan)
        return MetricFrame.build(series, start=float(ts[0]), step=step)

    def _columns(self, start: float, end: float) -> np.ndarray:
        """Columns holding samples in ``[start, end]``, oldest first."""
        oldest = (self._pos - self._count) % self.capacity
        order = (oldest + np.arange(self._count)) % self.capacity
        ts = self._ts[order]
        return order[(ts >= start) & (ts <= end)]

    def _row(self, key: SeriesKey) -> int:
        row = self._rows.get(key)
        if row is None:
            row = len(self._keys)
            if row == self._data.shape[0]:
                grown = np.full((max(8, 2 * row), self.capacity), np.nan)
                grown[:row] = self._data
                self._data = grown
            self._rows[key] = row
            self._keys.append(key)
        return row

    def _compact(self) -> None:
        n = len(self._keys)
        keep = np.flatnonzero(np.isfinite(self._data[:n]).any(axis=1))
        if keep.size == n:
            return
        self._keys = [self._keys[i] for i in keep]
        self._rows = {k: i for i, k in enumerate(self._keys)}
        self._data = np.concatenate([self._data[keep],
                                     np.full((max(8, keep.size) - keep.size, self.capacity),
                                             np.nan)])
        self._layout = None  # row numbers changed

    def keys(self) -> Sequence[SeriesKey]:
        return tuple(self._keys)
