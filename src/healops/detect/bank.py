"""The default detector, vectorised across many series: ``EnsembleBank``.

Every series is scored by the same ensemble of cheap online views of its recent past, held
as a struct of numpy arrays (one entry per series), so one call does O(1) work per sample
and no Python loop runs over series:

* **point surprise**: how far the sample sits from a slow exponentially weighted mean, in
  exponentially weighted standard deviations (the EWMA / z-score view);
* **level shift**: the same distance for fast EWMAs (a CUSUM-like view of a changed mean);
* **spread**: the recent root-mean-square distance from that mean, in the same units;
* **context novelty**: the sample and the two before it are quantised (bin width fixed at
  the end of the warm-up from the series' own spread) and hashed into a small per-series
  table of contexts already seen; an unseen context is novel (the CAD-OSE view).

Each view is scored by how far it beats its own decaying record (roughly its largest value
over the last ``1 / (1 - record_decay)`` samples, and never below a floor), as
``1 - record / value``: a calibration per series and per view, so a series that is always
noisy does not page all the time and one threshold serves every series. The ensemble's
score is the strongest view's. A score only stands if it exceeds the decaying memory of
recent scores, and a record beaten by less than ``fire_at`` (3 %) is not news. After a
detection the series stays silent for ``refractory`` samples unless a view doubles its
record (``escape``): one incident pages once, at its onset, not on every sample of it, yet a
far larger event still gets through (NAB, like an on-call engineer, rewards the first
detection of an incident and charges for every repeat). Scores are 0 during the warm-up
(``grace_period``).

``assess_many`` gives, besides that score, what a *held* condition needs (the engine's
symptom rules, ``healops.detect.symptoms``): the ensemble's **surprise** before the
page-once gating (how far the strongest view beats its record, while it does), each
series' signed distance from its slow mean in the spread the views use (``z``), and that
mean and spread. ``learn_many`` with ``nan`` in a series' place withholds that sample, so a
caller can refuse to learn from what it judged anomalous.

>>> import numpy as np
>>> bank = EnsembleBank(size=2)
>>> rng = np.random.default_rng(0)
>>> for t in range(600):
...     x = np.array([10.0, 50.0]) + rng.normal(0.0, 1.0, 2)
...     _ = bank.score_many(x)
...     bank.learn_many(x)
>>> scores = bank.score_many(np.array([10.0, 95.0]))
>>> bool(scores[0] < 0.2), bool(scores[1] > 0.5)
(True, True)
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from healops.detect.base import FloatArray

__all__ = ["Assessment", "EnsembleBank"]

_STATE_FIELDS = (
    "n_seen", "mean", "var", "fast", "dev", "rate", "width", "q1", "q2", "record", "memory",
    "seen", "quiet",
)
_HASH_A = np.int64(0x9E3779B1)
_HASH_B = np.int64(0x85EBCA77)
_HASH_C = np.int64(0xC2B2AE3D)


@dataclass(frozen=True, kw_only=True)
class Assessment:
    """One tick of the bank, per series (``0`` or ``nan`` where a series is absent).

    ``score``: the ensemble's score, gated to fire once per incident (``score_many``);
    ``surprise``: how far the strongest view beats its record now (at least ``fire_at``,
    else 0), with no memory or refractory gating, so it holds for as long as the deviation
    does; ``z``: the signed distance from the slow mean, in the spread every view uses;
    ``baseline``: that slow mean; ``spread``: that spread. ``surprise`` is 0 during the
    grace period.
    """

    score: FloatArray
    surprise: FloatArray
    z: FloatArray
    baseline: FloatArray
    spread: FloatArray


@dataclass(frozen=True, kw_only=True)
class _Step:
    """Everything one tick computes, so ``learn_many`` can commit what ``score_many`` saw."""

    x: FloatArray
    present: npt.NDArray[np.bool_]
    score: FloatArray
    surprise: FloatArray
    z: FloatArray
    stats: FloatArray
    fast: FloatArray
    aux: FloatArray


class EnsembleBank:
    """The default ensemble detector over ``size`` series at once (see the module doc)."""

    def __init__(
        self,
        *,
        size: int = 0,
        grace_period: int = 200,
        settle: float = 0.5,
        slow_span: float = 3000.0,
        fast_spans: tuple[float, ...] = (3.0, 12.0, 48.0),
        dev_span: float = 24.0,
        novelty_span: float = 12.0,
        bins: float = 6.0,
        table_size: int = 1024,
        record_decay: float = 0.9999,
        memory_decay: float = 0.98,
        z_floor: float = 2.0,
        novelty_floor: float = 0.1,
        fire_at: float = 0.03,
        refractory: int = 60,
        escape: float = 0.5,
    ) -> None:
        if table_size <= 0 or table_size & (table_size - 1):
            raise ValueError("table_size must be a power of two")
        self.grace_period = grace_period
        # The first half (``settle``) of the grace period only learns the level and spread;
        # the rest also learns contexts and the usual size of every statistic.
        self._settle = max(int(grace_period * settle), 1)
        # Novelty keeps a record only once the context table has mostly filled, but a
        # quarter of the way before scoring starts, so the first scored sample is not
        # measured against an empty record.
        self._novelty_start = self._settle + 0.75 * (grace_period - self._settle)
        self.slow_span = slow_span
        self.spans = np.asarray(fast_spans, dtype=np.float64)
        # A fast EWMA of white noise has spread sqrt(1 / (2 span - 1)) of the noise's.
        self.gains = np.sqrt(2.0 * self.spans - 1.0)
        self.dev_span = dev_span
        self.novelty_span = novelty_span
        self.bins = bins
        self.table_size = table_size
        self.record_decay = record_decay
        self.memory_decay = memory_decay
        self.fire_at = fire_at
        self.refractory = refractory
        self.escape = escape
        self._size = 0
        n_stats = 3 + len(fast_spans)
        self.floors = np.r_[np.full(n_stats - 1, z_floor), novelty_floor]
        self.n_seen = np.zeros(0)
        self.mean = np.zeros(0)
        self.var = np.zeros(0)
        self.fast = np.zeros((0, len(fast_spans)))
        self.dev = np.zeros(0)
        self.rate = np.zeros(0)
        self.width = np.zeros(0)
        self.q1 = np.zeros(0)
        self.q2 = np.zeros(0)
        self.record = np.zeros((0, n_stats))
        self.memory = np.zeros(0)
        self.seen = np.zeros((0, table_size), dtype=np.bool_)
        # Samples since the series last fired (counted from its first sample).
        self.quiet = np.zeros(0)
        self._last: _Step | None = None
        self.grow(size)

    # -- BankDetector --------------------------------------------------------------------

    @property
    def size(self) -> int:
        return self._size

    def grow(self, size: int) -> None:
        extra = size - self._size
        if extra <= 0:
            return
        for name in _STATE_FIELDS:
            cur = getattr(self, name)
            pad = np.zeros((extra, *cur.shape[1:]), dtype=cur.dtype)
            setattr(self, name, np.concatenate([cur, pad]))
        self._size = size
        self._last = None

    def score_many(self, x: FloatArray) -> FloatArray:
        step = self._step(np.asarray(x, dtype=np.float64))
        self._last = step
        return step.score

    def assess_many(self, x: FloatArray) -> Assessment:
        """``score_many`` with the details a held condition needs (see ``Assessment``)."""
        step = self._step(np.asarray(x, dtype=np.float64))
        self._last = step
        return Assessment(score=step.score, surprise=step.surprise, z=step.z,
                          baseline=self.mean.copy(), spread=self._scale())

    def learn_many(self, x: FloatArray) -> None:
        """Learn the values just scored; ``nan`` where a scored value is to be withheld."""
        x = np.asarray(x, dtype=np.float64)
        step = self._last
        if step is not None and step.x.shape == x.shape:
            withheld = np.isnan(x)
            if np.array_equal(np.where(withheld, np.nan, step.x), x, equal_nan=True):
                step = replace(step, present=step.present & ~withheld)
            else:
                step = None
        if step is None:
            step = self._step(x)
        self._last = None
        self._commit(step)

    @property
    def nbytes_per_series(self) -> float:
        """Bytes of model state held per series."""
        total = sum(int(getattr(self, name).nbytes) for name in _STATE_FIELDS)
        return total / max(self._size, 1)

    # -- the algorithm -------------------------------------------------------------------

    def _features(self, xs: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """The raw statistics of one tick (columns), the fast means and the novelty flag."""
        scale = self._scale()
        d = xs - self.mean
        fast = self.fast + (xs[:, None] - self.fast) / self.spans
        z_point = np.abs(d) / scale
        z_shift = np.abs(fast - self.mean[:, None]) / scale[:, None] * self.gains
        dev = self.dev + (d * d - self.dev) / self.dev_span
        z_var = np.sqrt(dev) / scale
        width = np.where(self.n_seen >= self._settle, self.width, 1.0)
        qx = np.floor(xs / width)
        h = (qx.astype(np.int64) * _HASH_A) ^ (self.q1.astype(np.int64) * _HASH_B)
        h = h ^ (self.q2.astype(np.int64) * _HASH_C)
        h = h ^ (h >> np.int64(15))
        slot = h & np.int64(self.table_size - 1)
        novel = (~self.seen[np.arange(self._size), slot]).astype(np.float64)
        rate = self.rate + (novel - self.rate) / self.novelty_span
        stats = np.column_stack([z_point, z_shift, z_var, rate])
        return stats, fast, np.column_stack([dev, rate, qx, slot.astype(np.float64), d / scale])

    def _scale(self) -> FloatArray:
        """The spread every view measures in: the slow standard deviation, never zero."""
        scale: FloatArray = np.sqrt(self.var) + 1e-3 * np.abs(self.mean) + 1e-9
        return scale

    def _step(self, x: FloatArray) -> _Step:
        if x.shape != (self._size,):
            raise ValueError(f"expected {self._size} values, got shape {x.shape}")
        present = ~np.isnan(x)
        xs = np.where(present, x, self.mean)
        stats, fast, aux = self._features(xs)
        # A statistic scores by how far it beats its own decaying record, and never below
        # a floor (z of 2, a novelty rate of 0.1) so a series that never moved cannot page.
        bar = np.maximum(self.record, self.floors)
        record = np.maximum(1.0 - bar / np.maximum(stats, 1e-12), 0.0)
        level = record.max(axis=1)
        rested = (self.quiet >= self.refractory) | (level >= self.escape)
        fires = (level > self.memory) & (level >= self.fire_at) & rested
        score = np.where(fires, level, 0.0)
        warm = self.n_seen >= self.grace_period
        score = np.where(warm & present, score, 0.0)
        surprise = np.where(warm & present & (level >= self.fire_at), level, 0.0)
        z = np.where(present, aux[:, 4], np.nan)
        return _Step(x=x.copy(), present=present, score=score, surprise=surprise, z=z,
                     stats=stats, fast=fast, aux=aux)

    def _commit(self, s: _Step) -> None:
        p = s.present
        xs = np.where(p, s.x, self.mean)
        first = self.n_seen == 0
        alpha = np.maximum(1.0 / (self.n_seen + 1.0), 1.0 / self.slow_span)
        d = xs - self.mean
        new_mean = self.mean + alpha * d
        new_var = (1.0 - alpha) * (self.var + alpha * d * d)
        warm = self.n_seen >= self.grace_period
        settled = self.n_seen >= self._settle
        scale = self._scale()
        ending = self.n_seen + 1.0 == self._settle
        new_width = np.where(ending, scale * 6.0 / self.bins, self.width)
        rows = np.flatnonzero(p & settled)
        self.seen[rows, s.aux[rows, 3].astype(np.int64)] = True
        stats = np.where(np.isfinite(s.stats), s.stats, 0.0)
        new_record = np.maximum(self.record * self.record_decay, stats)
        new_memory = np.maximum(self.memory * self.memory_decay, s.score)

        everyone = bool(p.all())

        def put(name: str, value: FloatArray) -> None:
            if everyone:  # the usual tick: no merge with the old state needed
                setattr(self, name, value)
                return
            cur = getattr(self, name)
            mask = p if cur.ndim == 1 else p[:, None]
            setattr(self, name, np.where(mask, value, cur))

        put("mean", new_mean)
        put("var", new_var)
        put("fast", np.where(first[:, None], xs[:, None], s.fast))
        put("dev", s.aux[:, 0])
        put("rate", np.where(settled, s.aux[:, 1], 0.0))
        put("width", new_width)
        put("q2", self.q1)
        put("q1", s.aux[:, 2])
        # Contexts are all new while the table fills, so novelty keeps no record until
        # ``_novelty_start``; the other statistics start at the settle point.
        learning = self.n_seen >= self._novelty_start
        started = np.column_stack(
            [np.repeat(settled[:, None], stats.shape[1] - 1, axis=1), learning])
        put("record", np.where(started, new_record, 0.0))
        put("memory", np.where(warm, new_memory, 0.0))
        put("quiet", np.where(s.score > 0.0, 0.0, self.quiet + 1.0))
        put("n_seen", self.n_seen + 1.0)

    # -- pickling ------------------------------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_last"] = None
        return state

