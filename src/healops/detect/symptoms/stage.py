"""Vectorised symptom rules.

Each (series, rule) pair is a *row*. Row state lives in numpy arrays, so one metric batch
(a scrape, a simulator tick) is evaluated with a handful of array operations whatever the
number of series.

A ``zscore`` rule's learned baseline is, by default, the default detector (ADR 0007):
every series such a rule reads is one row of one ``EnsembleBank``, assessed and taught
once per batch. The rule holds while the sample sits more than ``threshold`` of the
bank's spreads from its slow mean (and ``min_ratio`` above it); the ensemble's surprise
(its views against their records) goes with the anomaly as evidence. The bank is not
taught samples a rule holds anomalous, and learns the rest clipped to the rule's band.
``baseline: ewma`` keeps the earlier exponentially weighted mean and MAD instead.

>>> from healops.config.models import SymptomRule
>>> from healops.domain.signals import MetricBatch, SeriesKey
>>> import numpy as np
>>> det = SymptomDetector([SymptomRule(metric="error_ratio", kind="errors", threshold=0.05,
...                                    for_s=10)], warmup_s=0, halflife_s=60)
>>> keys = (SeriesKey.of("error_ratio", service="api", instance="api-1"),)
>>> [len(det.observe(MetricBatch(t, keys, np.array([0.5]))).fired) for t in (0, 5, 10)]
[0, 0, 1]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from healops.config.models import SymptomRule
from healops.detect.bank import EnsembleBank
from healops.detect.base import FloatArray
from healops.domain.signals import Anomaly, MetricBatch, SeriesKey

__all__ = ["SymptomDetector", "SymptomUpdate"]

_VALUE, _RATE, _TTL, _Z, _INC = 0, 1, 2, 3, 4
_TRANSFORMS = {"value": _VALUE, "rate": _RATE, "time_to_limit": _TTL, "zscore": _Z,
               "increase": _INC}
_MAD_TO_SIGMA = 1.4826
# Baselines count samples, not seconds; their half-life is given in seconds of samples
# this far apart (a typical scrape interval), as the ewma baseline has always assumed.
_SAMPLE_S = 10.0
# Samples the ensemble needs before it judges a series: its mean and spread settle over
# the first half; the engine's own warm-up (``warmup_s``, in seconds) applies as well.
_ENSEMBLE_GRACE = 20


@dataclass
class SymptomUpdate:
    """What one batch changed: rows that started firing, stopped, and all still firing."""

    fired: list[Anomaly] = field(default_factory=list)
    cleared: list[Anomaly] = field(default_factory=list)
    firing: list[Anomaly] = field(default_factory=list)


class _Rows:
    """Struct-of-arrays state for every (series, rule) row."""

    _FLOAT_COLS = ("prev_v", "prev_t", "slope", "mean", "mad", "first_t", "cond_since",
                   "clear_since", "started", "last_x", "last_base", "acc", "surprise")

    def __init__(self) -> None:
        self.n = 0
        empty: FloatArray = np.full(0, np.nan)
        self.prev_v = self.prev_t = self.slope = self.mean = self.mad = empty
        self.first_t = self.cond_since = self.clear_since = self.started = empty
        self.last_x = self.last_base = self.acc = self.surprise = empty
        self.firing: npt.NDArray[np.bool_] = np.zeros(0, dtype=bool)
        self.rule: npt.NDArray[np.int64] = np.zeros(0, dtype=np.int64)
        self.series: npt.NDArray[np.int64] = np.zeros(0, dtype=np.int64)
        self.bank: npt.NDArray[np.int64] = np.zeros(0, dtype=np.int64)  # -1: no bank row

    def add(self, series_idx: int, rule_idx: int, bank_row: int) -> None:
        for c in self._FLOAT_COLS:
            setattr(self, c, np.append(getattr(self, c), np.nan))
        self.firing = np.append(self.firing, False)
        self.rule = np.append(self.rule, rule_idx)
        self.series = np.append(self.series, series_idx)
        self.bank = np.append(self.bank, bank_row)
        self.n += 1


@dataclass(frozen=True)
class _RowParams:
    rows: npt.NDArray[np.int64]
    tr: npt.NDArray[np.int64]
    is_ttl: npt.NDArray[np.bool_]
    is_inc: npt.NDArray[np.bool_]
    is_z: npt.NDArray[np.bool_]
    is_ens: npt.NDArray[np.bool_]  # zscore against the ensemble bank
    bank: npt.NDArray[np.int64]  # the row's series in the bank (is_ens rows)
    is_rate: npt.NDArray[np.bool_]
    is_value: npt.NDArray[np.bool_]
    window: FloatArray
    trend: FloatArray
    limit: FloatArray
    thr: FloatArray
    lt: npt.NDArray[np.bool_]
    min_ratio: FloatArray
    for_s: FloatArray
    clear_s: FloatArray


@dataclass(frozen=True)
class _Assessed:
    values: FloatArray  # the batch as the bank saw it (one value per bank row)
    low: FloatArray  # the band it may learn in (per bank row)
    high: FloatArray
    z: FloatArray  # the rest are per row of the batch
    baseline: FloatArray
    surprise: FloatArray


class SymptomDetector:
    """Turns metric batches into anomalies with rule hysteresis; no I/O, time from the data."""

    def __init__(self, rules: Sequence[SymptomRule], *, warmup_s: float, halflife_s: float,
                 stale_s: float = 300.0) -> None:
        self.rules = list(rules)
        self.warmup_s = warmup_s
        self.halflife_s = halflife_s
        self.stale_s = stale_s
        self._by_metric: dict[str, list[int]] = {}
        for i, rule in enumerate(self.rules):
            self._by_metric.setdefault(rule.metric, []).append(i)
        self._series: dict[SeriesKey, int] = {}
        self._keys: list[SeriesKey] = []
        self._rows = _Rows()
        self._rows_of_series: list[list[int]] = []
        self._cache: tuple[tuple[SeriesKey, ...], np.ndarray, np.ndarray] | None = None
        self._params: _RowParams | None = None
        r = self.rules
        self._transform = np.array([_TRANSFORMS[x.transform] for x in r], dtype=np.int64)
        self._lt = np.array([x.op == "<" for x in r], dtype=bool)
        self._threshold = np.array([x.threshold for x in r], dtype=float)
        self._limit = np.array([x.limit for x in r], dtype=float)
        self._min_ratio = np.array([x.min_ratio for x in r], dtype=float)
        self._for = np.array([x.for_s for x in r], dtype=float)
        self._clear = np.array([x.clear_s for x in r], dtype=float)
        self._trend = np.array([x.trend_s for x in r], dtype=float)
        self._window = np.array([x.window_s for x in r], dtype=float)
        self._ensemble = np.array([x.transform == "zscore" and x.baseline != "ewma" for x in r],
                                  dtype=bool)
        # One bank row per series that an ensemble zscore rule reads, grown as they appear.
        self._bank = EnsembleBank(grace_period=_ENSEMBLE_GRACE,
                                  slow_span=halflife_s / _SAMPLE_S / math.log(2))

    @property
    def series_count(self) -> int:
        return len(self._keys)

    def _index(self, keys: tuple[SeriesKey, ...]) -> tuple[np.ndarray, np.ndarray]:
        """Row indices touched by this batch and, for each, the position of its value."""
        if self._cache is not None and self._cache[0] is keys:
            return self._cache[1], self._cache[2]
        self._params = None
        rows: list[int] = []
        pos: list[int] = []
        for p, key in enumerate(keys):
            rule_ids = self._by_metric.get(key.name)
            if not rule_ids:
                continue
            s = self._series.get(key)
            if s is None:
                s = len(self._keys)
                self._series[key] = s
                self._keys.append(key)
                self._rows_of_series.append([])
                bank_row = -1
                if self._ensemble[rule_ids].any():
                    bank_row = self._bank.size
                    self._bank.grow(bank_row + 1)
                for ri in rule_ids:
                    self._rows_of_series[s].append(self._rows.n)
                    self._rows.add(s, ri, bank_row if self._ensemble[ri] else -1)
            for row in self._rows_of_series[s]:
                rows.append(row)
                pos.append(p)
        out = (np.array(rows, dtype=np.int64), np.array(pos, dtype=np.int64))
        self._cache = (keys, out[0], out[1])
        return out

    def _row_params(self, rows: np.ndarray) -> _RowParams:
        """The rules' constants, gathered once per layout of the batch rather than per tick."""
        if self._params is None or self._params.rows is not rows:
            ri = self._rows.rule[rows]
            tr = self._transform[ri]
            self._params = _RowParams(
                rows=rows, tr=tr, is_ttl=tr == _TTL, is_inc=tr == _INC, is_z=tr == _Z,
                is_ens=self._ensemble[ri], bank=self._rows.bank[rows], is_rate=tr == _RATE,
                is_value=tr == _VALUE, window=self._window[ri],
                trend=self._trend[ri], limit=self._limit[ri], thr=self._threshold[ri],
                lt=self._lt[ri], min_ratio=self._min_ratio[ri], for_s=self._for[ri],
                clear_s=self._clear[ri])
        return self._params

    def observe(self, batch: MetricBatch) -> SymptomUpdate:
        rows, pos = self._index(batch.keys)
        update = SymptomUpdate()
        if len(rows) == 0:
            return update
        st = self._rows
        now = batch.ts
        v = np.asarray(batch.values, dtype=float)[pos]
        ok = ~np.isnan(v)
        p = self._row_params(rows)
        prev_v, prev_t = st.prev_v[rows], st.prev_t[rows]
        dt = now - prev_t
        have_prev = ~np.isnan(prev_v) & (dt > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            delta = v - prev_v
            rate = np.where(delta >= 0, delta, v) / dt
        # increase: a decayed sum of the counter's rises (a drop is a reset: count v).
        is_inc = p.is_inc
        dtz = np.where(np.isnan(dt), 0.0, dt)
        rise = np.where(have_prev & ok, np.where(delta >= 0, delta, v), 0.0)
        decay = np.exp(-dtz / p.window)
        acc_old = st.acc[rows]
        acc = np.where(np.isnan(acc_old), 0.0, acc_old) * np.where(have_prev, decay, 1.0) + rise
        # Time-to-limit follows Holt's linear trend: a smoothed level (about a minute) and a
        # slope smoothed over the rule's trend_s, so one noisy sample cannot make a trend.
        is_ttl = p.is_ttl
        a_lvl = 1.0 - np.exp(-dtz / 60.0)
        b_tr = 1.0 - np.exp(-dtz / p.trend)
        old_slope = st.slope[rows]
        old_slope = np.where(np.isnan(old_slope), 0.0, old_slope)
        level = st.mean[rows]
        pred = level + old_slope * dtz
        new_level = np.where(np.isnan(level), v, pred + a_lvl * (v - pred))
        with np.errstate(divide="ignore", invalid="ignore"):
            lvl_slope = np.where(dtz > 0, (new_level - level) / dtz, 0.0)
        slope = np.where(have_prev, old_slope + b_tr * (lvl_slope - old_slope), old_slope)
        # A sudden drop of more than 10% (a restart, a cleanup) resets the trend, the way a
        # counter reset restarts a rate: the old slope no longer describes the series.
        reset = is_ttl & have_prev & (v < level - 0.1 * np.abs(level))
        new_level = np.where(reset, v, new_level)
        slope = np.where(reset, 0.0, slope)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            ttl = np.where(slope > 1e-12,
                           (p.limit - new_level) / np.maximum(slope, 1e-12), np.inf)
        ttl_ok = is_ttl & ok
        st.mean[rows] = np.where(ttl_ok, new_level, st.mean[rows])
        mean = np.where(is_ttl, np.nan, st.mean[rows])
        mad = st.mad[rows]
        scale = _MAD_TO_SIGMA * mad + 1e-9 + 0.01 * np.abs(mean)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(np.isnan(mean), 0.0, (v - mean) / scale)
        is_ens = p.is_ens
        ens = self._assess(v, p) if is_ens.any() else None
        if ens is not None:
            mean = np.where(is_ens, ens.baseline, mean)
            z = np.where(is_ens, ens.z, z)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(np.abs(mean) > 1e-12, v / mean, np.inf)
        x = np.where(p.is_value, v, np.where(p.is_rate, np.where(have_prev, rate, np.nan),
                     np.where(is_ttl, ttl, np.where(p.is_z, z, acc))))
        thr = p.thr
        with np.errstate(invalid="ignore"):
            cond = np.where(p.lt, x < thr, x > thr)
        first_t = np.where(np.isnan(st.first_t[rows]), now, st.first_t[rows])
        warm = (now - first_t) >= self.warmup_s
        is_z = p.is_z
        cond &= ok & ~np.isnan(x)
        cond &= ~is_z | (warm & (ratio >= p.min_ratio))
        # A trend needs its smoothing window of history before it can say anything.
        cond &= ~is_ttl | ((now - first_t) >= p.trend)
        firing = st.firing[rows]

        # Baselines learn only from normal-looking samples (score before learn, refuse
        # to learn from anomalies), so a long incident does not become the new normal.
        learn = ok & is_z & ~is_ens & ~cond & ~firing
        if ens is not None:
            self._teach(ens, p, is_ens & (cond | firing))
            st.mean[rows] = np.where(is_ens & ok, ens.baseline, st.mean[rows])
            st.surprise[rows] = np.where(is_ens & ok, ens.surprise, st.surprise[rows])
        if learn.any():
            a = 1.0 - math.exp(-math.log(2) / max(self.halflife_s / _SAMPLE_S, 1.0))
            a_warm = np.where(warm, a, np.maximum(a, 0.2))
            m_new = np.where(np.isnan(mean), v, mean + a_warm * (v - mean))
            dev = np.abs(v - m_new)
            d_new = np.where(np.isnan(mad), dev, mad + a_warm * (dev - mad))
            st.mean[rows] = np.where(learn, m_new, st.mean[rows])
            st.mad[rows] = np.where(learn, d_new, mad)

        cond_since = np.where(cond, np.where(np.isnan(st.cond_since[rows]), now,
                                             st.cond_since[rows]), np.nan)
        clear_since = np.where(cond | ~firing, np.nan,
                               np.where(np.isnan(st.clear_since[rows]), now,
                                        st.clear_since[rows]))
        fire = cond & ~firing & ((now - cond_since) >= p.for_s)
        clear = firing & ~cond & ((now - clear_since) >= p.clear_s)
        new_firing = (firing | fire) & ~clear
        started = np.where(fire, cond_since, st.started[rows])

        st.prev_v[rows] = np.where(ok, v, prev_v)
        st.prev_t[rows] = np.where(ok, now, prev_t)
        st.slope[rows] = np.where(ttl_ok, slope, st.slope[rows])
        st.acc[rows] = np.where(is_inc & ok, acc, st.acc[rows])
        st.first_t[rows] = np.where(ok, first_t, st.first_t[rows])
        st.cond_since[rows] = cond_since
        st.clear_since[rows] = clear_since
        st.firing[rows] = new_firing
        st.started[rows] = started
        st.last_x[rows] = np.where(ok, x, st.last_x[rows])
        base = np.where(is_z | is_ttl, st.mean[rows], thr)
        st.last_base[rows] = base

        self._clear_stale(now, update)
        interesting = np.flatnonzero(new_firing | clear)
        for j in interesting:
            anomaly = self._anomaly(int(rows[j]), float(v[j]), float(x[j]), float(base[j]), now)
            if fire[j]:
                update.fired.append(anomaly)
            if clear[j]:
                update.cleared.append(anomaly)
            elif new_firing[j]:
                update.firing.append(anomaly)
        return update

    def _assess(self, v: FloatArray, p: _RowParams) -> _Assessed:
        """The bank's view of this batch, gathered back onto the rows (``is_ens`` ones)."""
        xb = np.full(self._bank.size, np.nan)
        xb[p.bank[p.is_ens]] = v[p.is_ens]
        a = self._bank.assess_many(xb)
        b = np.where(p.is_ens, p.bank, 0)
        band = np.full(self._bank.size, np.inf)
        band[p.bank[p.is_ens]] = np.abs(p.thr[p.is_ens])
        band = np.where(self._bank.n_seen >= self._bank.grace_period, band, np.inf) * a.spread
        return _Assessed(values=xb, low=a.baseline - band, high=a.baseline + band, z=a.z[b],
                         baseline=a.baseline[b], surprise=a.surprise[b])

    def _teach(self, ens: _Assessed, p: _RowParams, refuse: npt.NDArray[np.bool_]) -> None:
        """Teach the bank this batch. A series a rule holds anomalous is withheld (score
        before learning; the anomaly must not become the new normal). The rest is learned
        clipped to the rules' band, as a Huber estimator bounds one sample's pull: a
        deviation the rule lets pass (too small a ratio, still warming up) neither inflates
        the spread and the records at once nor is ignored if it persists."""
        xl = np.clip(ens.values, ens.low, ens.high)
        xl[p.bank[refuse]] = np.nan
        self._bank.learn_many(xl)

    def _clear_stale(self, now: float, update: SymptomUpdate) -> None:
        """A firing series that stopped reporting (a replaced instance, a removed target)
        clears after ``stale_s``, as Prometheus marks a vanished series stale: otherwise its
        last symptom would hold an incident open for ever."""
        st = self._rows
        stale = np.flatnonzero(st.firing & (st.prev_t < now - self.stale_s))
        for row in stale:
            st.firing[row] = False
            st.cond_since[row] = st.clear_since[row] = np.nan
            update.cleared.append(self._anomaly(int(row), float(st.prev_v[row]),
                                                float(st.last_x[row]),
                                                float(st.last_base[row]), now))

    def _anomaly(self, row: int, value: float, x: float, base: float, now: float) -> Anomaly:
        st = self._rows
        rule = self.rules[int(st.rule[row])]
        key = self._keys[int(st.series[row])]
        thr = rule.threshold
        if rule.transform == "zscore":
            score = 1.0 - math.exp(-max(x, 0.0) / thr) if math.isfinite(x) else 1.0
        elif rule.op == ">":
            score = min(1.0, 0.5 * x / thr) if thr > 0 and math.isfinite(x) else 1.0
        else:
            score = min(1.0, 0.5 * thr / max(x, 1e-9)) if math.isfinite(x) else 0.5
        extra: tuple[tuple[str, float], ...] = ((rule.transform, x),)
        if self._ensemble[int(st.rule[row])]:
            extra += (("surprise", float(st.surprise[row])),)
        return Anomaly(
            key=key,
            kind=rule.kind,
            score=min(1.0, max(0.0, float(score))),
            value=value,
            baseline=base,
            started_at=float(st.started[row]) if not np.isnan(st.started[row]) else now,
            ts=now,
            detail=f"{rule.transform} {rule.op} {thr:g}",
            extra=extra,
            held_s=-1.0 if np.isnan(st.cond_since[row]) else now - float(st.cond_since[row]),
        )
