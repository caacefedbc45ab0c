"""The BARO baseline: rank services by the largest robust z-score of any of their metrics.

Each series is scaled like scikit-learn's ``RobustScaler`` fitted on the window before
the fault (median, inter-quartile range), and a service scores the largest value over the
after window and its metrics (Pham et al., FSE 2024). Where the inter-quartile range is
zero, scikit-learn's unit scale would make the score depend on units (bytes against
cores), so the standard deviation of the window before stands in (1 when it is constant).

>>> before = MetricFrame.build({("a", "cpu"): [1, 2, 3, 2], ("b", "cpu"): [1, 2, 3, 2]})
>>> after = MetricFrame.build({("a", "cpu"): [2, 3], ("b", "cpu"): [9, 9]})
>>> [(svc, metric) for svc, metric, _ in baro_rank(before, after)]
[('b', 'cpu'), ('a', 'cpu')]
"""

from __future__ import annotations

import warnings

import numpy as np

from healops.diagnose.rca.frame import MetricFrame
from healops.diagnose.rca.score import _quartiles

__all__ = ["baro_rank"]


def baro_rank(before: MetricFrame, after: MetricFrame) -> list[tuple[str, str, float]]:
    """``(service, metric, score)`` per service, best first."""
    keys = [k for k in after.series if k in before.series]
    if not keys or len(after) == 0 or len(before) == 0:
        return []
    b = np.vstack([before.series[k] for k in keys])
    a = np.vstack([after.series[k] for k in keys])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        center = np.nanmedian(b, axis=1)
        q75, q25 = _quartiles(b)
        std = np.nanstd(b, axis=1)
    iqr = q75 - q25
    std = np.where((std > 0) & np.isfinite(std), std, 1.0)
    iqr = np.where((iqr > 0) & np.isfinite(iqr), iqr, std)
    z = (a - center[:, None]) / iqr[:, None]
    peak = np.nan_to_num(z, nan=-np.inf, posinf=0.0).max(axis=1)
    best: dict[str, tuple[str, float]] = {}
    for (svc, metric), score in zip(keys, peak.tolist(), strict=True):
        if svc not in best or score > best[svc][1]:
            best[svc] = (metric, score)
    ranked = sorted(best.items(), key=lambda item: (-item[1][1], item[0]))
    return [(svc, metric, score) for svc, (metric, score) in ranked]
