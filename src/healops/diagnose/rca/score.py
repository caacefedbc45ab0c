"""Per-series anomaly strength and onset: a robust z-score of the window after a fault
against the window before it, vectorised over every series of a frame.

>>> before = MetricFrame.build({("db", "cpu"): [10, 11, 9, 10, 10, 11, 9, 10]})
>>> after = MetricFrame.build({("db", "cpu"): [10, 10, 30, 31, 32]})
>>> s = score_frames(before, after)[0]
>>> s.service, s.kind, s.onset, round(s.before, 1), round(s.after, 1), round(s.strength, 1)
('db', 'cpu', 2, 10.0, 30.0, 10.0)
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from healops.diagnose.rca.frame import FloatArray, MetricFrame
from healops.diagnose.rca.kinds import (
    FaultKind,
    Role,
    bad_direction,
    is_request_percent,
    metric_kind,
    metric_role,
)

__all__ = ["ScoreSettings", "SeriesScore", "robust_center_scale", "score_frames"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ScoreSettings:
    """How a deviation is measured.

    ``persistence`` is how many samples of the after window (at least, or
    ``persistence_fraction`` of them if more) a deviation must last to count at full
    strength: the score is the deviation held by that many samples. A spike of one or two
    samples is noise more often than a fault: the median latency of a low-traffic call
    can sit ten times above its usual level in one minute out of ten.
    ``relative_floor`` keeps near-constant baselines from turning tiny changes into huge
    z-scores: the scale is never below that fraction of the baseline level. For a
    percentage of requests (``SuccessRate(%)``, ``ErrorRate(%)``) the level is the share of
    requests failing, whichever way the metric is written, and the scale is never below
    ``percent_floor`` points: a success rate stuck at 100 % has no spread to measure
    against, yet 2 % of requests failing for minutes is a symptom.
    """

    persistence: int = 3
    persistence_fraction: float = 0.1
    threshold: float = 3.0
    relative_floor: float = 0.2
    absolute_floor: float = 1e-9
    percent_floor: float = 0.5


@dataclass(frozen=True, slots=True)
class SeriesScore:
    """How anomalous one series is after the fault, and from when."""

    service: str
    metric: str
    kind: FaultKind
    role: Role
    strength: float  # robust z of the lasting deviation in the harmful direction, >= 0
    onset: int | None  # first sample of the after window past the threshold
    before: float  # baseline level (median of the before window)
    after: float  # level reached in the after window
    vanished: bool = False  # reported in every sample before, missing from half after or more


def robust_center_scale(
    before: FloatArray,
    *,
    relative_floor: float = 0.05,
    absolute_floor: float | FloatArray = 1e-9,
    level: FloatArray | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Row-wise median and a robust, floored scale of a (series x samples) matrix.

    ``level`` (default: the median) is what ``relative_floor`` is a fraction of, and
    ``absolute_floor`` may be one value or one per row.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows give NaN, handled below
        center = np.nanmedian(before, axis=1)
        mad = np.nanmedian(np.abs(before - center[:, None]), axis=1) * 1.4826
        q75, q25 = _quartiles(before)
    iqr = (q75 - q25) / 1.349
    base = center if level is None else level
    scale = np.fmax(np.fmax(mad, iqr), relative_floor * np.abs(base))
    floor = np.broadcast_to(np.asarray(absolute_floor, dtype=np.float64), scale.shape)
    scale = np.fmax(np.where(np.isnan(scale), floor, scale), floor)
    return center, scale


def _quartiles(m: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Row-wise upper and lower quartiles; the NaN-aware path only for rows with gaps."""
    gaps = np.isnan(m).any(axis=1)
    q = np.empty((2, m.shape[0]))
    if (~gaps).any():
        q[:, ~gaps] = np.percentile(m[~gaps], [75.0, 25.0], axis=1)
    if gaps.any():
        q[:, gaps] = np.nanpercentile(m[gaps], [75.0, 25.0], axis=1)
    return q[0], q[1]


def score_frames(
    before: MetricFrame, after: MetricFrame, settings: ScoreSettings | None = None
) -> list[SeriesScore]:
    """Score every series present in both frames (order of ``after``)."""
    cfg = settings or ScoreSettings()
    keys = [k for k in after.series if k in before.series]
    if not keys or len(after) == 0 or len(before) == 0:
        return []
    b = np.vstack([before.series[k] for k in keys])
    a = np.vstack([after.series[k] for k in keys])
    direction = np.array([bad_direction(m) for _, m in keys], dtype=np.float64)
    percent = np.array([is_request_percent(m) for _, m in keys], dtype=bool)
    level = floor = None
    if percent.any():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            median = np.nanmedian(b, axis=1)
        # the failing share: a success rate's headroom, an error rate's own level
        level = np.where(percent & (direction < 0), 100.0 - median, median)
        floor = np.where(percent, cfg.percent_floor, cfg.absolute_floor)
    center, scale = robust_center_scale(
        b, relative_floor=cfg.relative_floor,
        absolute_floor=cfg.absolute_floor if floor is None else floor, level=level,
    )
    z = (a - center[:, None]) / scale[:, None]
    signed = np.where(direction[:, None] == 0, np.abs(z), z * direction[:, None])
    signed = np.nan_to_num(signed, nan=-np.inf)
    n_after = a.shape[1]
    k = min(n_after, max(cfg.persistence, math.ceil(cfg.persistence_fraction * n_after)))
    # the k-th largest deviation: it lasted at least k samples
    at = np.argpartition(-signed, k - 1, axis=1)[:, k - 1]
    rows = np.arange(len(keys))
    lasting = signed[rows, at]
    lasting = np.where(np.isfinite(lasting), lasting, 0.0)
    strength = np.maximum(lasting, 0.0)
    level = np.maximum(cfg.threshold, 0.5 * strength)
    crossed = signed >= level[:, None]
    first = np.argmax(crossed, axis=1)
    has_onset = crossed.any(axis=1) & (strength >= cfg.threshold)
    after_level = a[rows, at]
    gone_before = np.isnan(b).mean(axis=1)
    gone_after = np.isnan(a).mean(axis=1)
    vanished = (gone_before == 0) & (gone_after >= 0.5)
    out: list[SeriesScore] = []
    for i, (svc, metric) in enumerate(keys):
        if not np.isfinite(center[i]):
            continue
        out.append(
            SeriesScore(
                service=svc,
                metric=metric,
                kind=metric_kind(metric),
                role=metric_role(metric),
                strength=float(strength[i]),
                onset=int(first[i]) if has_onset[i] else (
                    int(np.argmax(np.isnan(a[i]))) if vanished[i] else None),
                before=float(center[i]),
                after=float(after_level[i]),
                vanished=bool(vanished[i]),
            )
        )
    return out

