"""NAB scoring: the Numenta Anomaly Benchmark rules (v1.1), as pure functions.

Rows are addressed by index and windows are inclusive ``(first_row, last_row)`` pairs, so the
scorer never parses a timestamp. The rules, as the NAB reference scorer applies them:

* the first ``min(floor(0.15 * n), 750)`` rows of a file are probationary and never scored;
  a window with no scorable row is not counted at all;
* a row is a detection when its anomaly score is at least the threshold;
* inside a window only the earliest detection counts, worth
  ``A_TP * sigma(y) / sigma(-1)`` with ``y = -(right - i + 1) / width`` and
  ``sigma(y) = 2 / (1 + e^(5y)) - 1`` (``sigma(y) = -1`` for ``y >= 3``);
* a window with no detection costs ``A_FN``;
* a detection outside every window costs ``A_FP * sigma(y)`` with
  ``y = (i - prev_right) / (prev_width - 1)`` after the preceding window, and ``-A_FP`` before
  any window;
* one threshold is chosen for the whole corpus, the one with the highest raw score, and the
  result is normalised to ``100 * (raw - null) / (perfect - null)``.

>>> files = [NabFile(name="a.csv", scores=np.array([0.0] * 10 + [0.9] + [0.0] * 9),
...                  windows=((10, 14),))]
>>> result = score_corpus(files, PROFILES["standard"])
>>> (result.threshold, result.tp, result.fp, result.fn, round(result.score, 1))
(0.9, 1, 0, 0, 100.0)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "PROFILES",
    "CorpusScore",
    "NabFile",
    "Profile",
    "probationary_length",
    "row_weights",
    "scaled_sigmoid",
    "score_at_threshold",
    "score_corpus",
    "threshold_curve",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

OUTSIDE = -1  # row outside every window
PROBATIONARY = -2  # row in the probationary period: never scored
NOTHING = 1.1  # a threshold above every score: the detector never fires


@dataclass(frozen=True, kw_only=True)
class Profile:
    """The weights of one NAB application profile."""

    name: str
    a_tp: float
    a_fn: float
    a_fp: float


PROFILES: dict[str, Profile] = {
    "standard": Profile(name="standard", a_tp=1.0, a_fn=1.0, a_fp=0.11),
    "reward_low_FP_rate": Profile(name="reward_low_FP_rate", a_tp=1.0, a_fn=1.0, a_fp=0.22),
    "reward_low_FN_rate": Profile(name="reward_low_FN_rate", a_tp=1.0, a_fn=2.0, a_fp=0.11),
}


@dataclass(frozen=True, kw_only=True)
class NabFile:
    """One scored file: an anomaly score per row and its labelled windows (row indices)."""

    name: str
    scores: FloatArray
    windows: tuple[tuple[int, int], ...]


@dataclass(frozen=True, kw_only=True)
class CorpusScore:
    """The outcome of one profile over a corpus at its chosen threshold."""

    profile: str
    threshold: float
    raw: float
    null: float
    perfect: float
    score: float
    tp: int
    fp: int
    fn: int


def probationary_length(n_rows: int, *, percent: float = 0.15) -> int:
    """Rows at the start of a file that are not scored: 15 %, at most 750.

    >>> probationary_length(4032), probationary_length(10_000), probationary_length(10)
    (604, 750, 1)
    """
    return int(min(math.floor(percent * n_rows), math.floor(percent * 5000)))


def scaled_sigmoid(y: float) -> float:
    """NAB's ``2 / (1 + e^(5y)) - 1``, clamped to -1 from ``y = 3``.

    >>> round(scaled_sigmoid(-1.0), 5), scaled_sigmoid(0.0), scaled_sigmoid(3.0)
    (0.98661, 0.0, -1.0)
    """
    if y >= 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * y)) - 1.0


def row_weights(
    n_rows: int, windows: Sequence[tuple[int, int]], profile: Profile
) -> tuple[FloatArray, IntArray]:
    """What a detection on each row is worth, and which window (if any) the row is in.

    Returns ``(weight, window)``: ``window`` is the window's position in ``windows``,
    ``OUTSIDE`` (-1) or ``PROBATIONARY`` (-2).

    >>> w, k = row_weights(10, [(4, 5)], PROFILES["standard"])
    >>> k.tolist()
    [-2, -1, -1, -1, 0, 0, -1, -1, -1, -1]
    >>> [round(float(v), 4) for v in w[4:8]]
    [1.0, 0.8598, -0.1085, -0.11]
    """
    weight = np.zeros(n_rows, dtype=np.float64)
    window = np.full(n_rows, OUTSIDE, dtype=np.int64)
    max_tp = scaled_sigmoid(-1.0)
    ordered = sorted(windows)
    for a, b in zip(ordered, ordered[1:], strict=False):
        if b[0] <= a[1]:
            raise ValueError(f"NAB windows overlap: {a} and {b}")
    prev_right: int | None = None
    prev_width = 0.0
    nxt = 0
    i = 0
    while i < n_rows:
        if nxt < len(ordered) and i == ordered[nxt][0]:
            left, right = ordered[nxt]
            right = min(right, n_rows - 1)
            width = float(right - left + 1)
            for j in range(left, right + 1):
                y = -(right - j + 1) / width
                weight[j] = scaled_sigmoid(y) * profile.a_tp / max_tp
                window[j] = nxt
            prev_right, prev_width = right, width
            nxt += 1
            i = right + 1
            continue
        if prev_right is None:
            y = 3.0
        elif prev_width <= 1.0:
            y = 3.0  # a one-row window has no width to measure distance in
        else:
            y = (i - prev_right) / (prev_width - 1.0)
        weight[i] = scaled_sigmoid(y) * profile.a_fp
        i += 1
    window[: probationary_length(n_rows)] = PROBATIONARY
    return weight, window


@dataclass(frozen=True)
class _Events:
    """How the corpus score changes as the threshold falls past each anomaly score."""

    scores: FloatArray  # descending
    deltas: FloatArray
    base: float  # the score when nothing is detected
    n_windows: int


def _events(files: Sequence[NabFile], profile: Profile) -> _Events:
    ev_scores: list[FloatArray] = []
    ev_deltas: list[FloatArray] = []
    base = 0.0
    n_windows = 0
    for f in files:
        s = np.asarray(f.scores, dtype=np.float64)
        weight, window = row_weights(len(s), f.windows, profile)
        outside = window == OUTSIDE
        ev_scores.append(s[outside])
        ev_deltas.append(weight[outside])
        for k in np.unique(window[window >= 0]):
            rows = np.flatnonzero(window == k)
            order = rows[np.argsort(-s[rows], kind="stable")]
            best = np.maximum.accumulate(np.maximum(weight[order], -profile.a_fn))
            gain = np.diff(best, prepend=-profile.a_fn)
            keep = gain > 0.0
            ev_scores.append(s[order][keep])
            ev_deltas.append(gain[keep])
            base -= profile.a_fn
            n_windows += 1
    scores = np.concatenate(ev_scores) if ev_scores else np.zeros(0)
    deltas = np.concatenate(ev_deltas) if ev_deltas else np.zeros(0)
    order = np.argsort(-scores, kind="stable")
    return _Events(scores=scores[order], deltas=deltas[order], base=base, n_windows=n_windows)


def threshold_curve(
    files: Sequence[NabFile], profile: Profile
) -> tuple[FloatArray, FloatArray]:
    """The raw corpus score at every distinct threshold, highest threshold first.

    The first entry is ``NOTHING`` (1.1), where no row is a detection.
    """
    ev = _events(files, profile)
    if len(ev.scores) == 0:
        return np.array([NOTHING]), np.array([ev.base])
    total = ev.base + np.cumsum(ev.deltas)
    last_of_run = np.r_[ev.scores[1:] != ev.scores[:-1], True]
    thresholds = np.r_[NOTHING, ev.scores[last_of_run]]
    totals = np.r_[ev.base, total[last_of_run]]
    return thresholds, totals


def score_at_threshold(
    files: Sequence[NabFile], profile: Profile, threshold: float
) -> tuple[float, int, int, int]:
    """Raw score, true positives, false positives and false negatives at one threshold."""
    raw = 0.0
    tp = fp = fn = 0
    for f in files:
        s = np.asarray(f.scores, dtype=np.float64)
        weight, window = row_weights(len(s), f.windows, profile)
        hit = s >= threshold
        fp_rows = hit & (window == OUTSIDE)
        fp += int(fp_rows.sum())
        raw += float(weight[fp_rows].sum())
        for k in np.unique(window[window >= 0]):
            rows = np.flatnonzero((window == k) & hit)
            if len(rows):
                tp += 1
                raw += max(float(weight[rows[0]]), -profile.a_fn)
            else:
                fn += 1
                raw -= profile.a_fn
    return raw, tp, fp, fn


def score_corpus(
    files: Sequence[NabFile], profile: Profile, *, threshold: float | None = None
) -> CorpusScore:
    """Score a corpus under one profile, choosing the best threshold unless one is given."""
    if threshold is None:
        thresholds, totals = threshold_curve(files, profile)
        threshold = float(thresholds[int(np.argmax(totals))])
    raw, tp, fp, fn = score_at_threshold(files, profile, threshold)
    n_windows = tp + fn
    null = -profile.a_fn * n_windows
    perfect = profile.a_tp * n_windows
    score = 100.0 * (raw - null) / (perfect - null) if perfect != null else 0.0
    return CorpusScore(
        profile=profile.name, threshold=threshold, raw=raw, null=null, perfect=perfect,
        score=score, tp=tp, fp=fp, fn=fn,
    )
