"""NAB scorer against examples worked by hand.

The numbers below are written out from the NAB formula ``2 / (1 + e^(5y)) - 1`` so that a
mistake in the scorer's positions or weights shows up as a different number.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from healops.bench.nab_score import (
    PROFILES,
    NabFile,
    probationary_length,
    row_weights,
    score_at_threshold,
    score_corpus,
    threshold_curve,
)

STANDARD = PROFILES["standard"]
LOW_FP = PROFILES["reward_low_FP_rate"]
LOW_FN = PROFILES["reward_low_FN_rate"]
SIGMA_LEFT = 2 / (1 + math.exp(-5)) - 1  # 0.98661, the earliest detection's sigma


def one_file(hits: list[int], *, n: int = 20, windows: tuple[tuple[int, int], ...] = ((10, 14),),
             value: float = 1.0) -> NabFile:
    scores = np.zeros(n)
    scores[hits] = value
    return NabFile(name="f.csv", scores=scores, windows=windows)


def test_probationary_period_is_15_percent_capped_at_750() -> None:
    assert probationary_length(20) == 3
    assert probationary_length(1243) == 186
    assert probationary_length(4999) == 749
    assert probationary_length(5000) == 750
    assert probationary_length(18050) == 750


def test_detection_at_left_edge_is_worth_a_tp() -> None:
    raw, tp, fp, fn = score_at_threshold([one_file([10])], STANDARD, 0.5)
    assert (tp, fp, fn) == (1, 0, 0)
    assert raw == pytest.approx(1.0)


def test_detection_inside_window_uses_scaled_sigmoid() -> None:
    # Row 12 of window 10..14 (width 5): y = -(14 - 12 + 1) / 5 = -0.6,
    # sigma = 2 / (1 + e^-3) - 1 = 0.905148, scaled by 1 / 0.986614.
    raw, *_ = score_at_threshold([one_file([12])], STANDARD, 0.5)
    assert raw == pytest.approx(0.905148 / 0.986614, abs=1e-5)


def test_detection_at_right_edge_is_worth_little() -> None:
    # Row 14: y = -1/5, sigma = 2 / (1 + e^-1) - 1 = 0.462117.
    raw, *_ = score_at_threshold([one_file([14])], STANDARD, 0.5)
    assert raw == pytest.approx(0.462117 / 0.986614, abs=1e-5)


def test_only_first_detection_in_window_counts() -> None:
    raw, tp, fp, fn = score_at_threshold([one_file([11, 12, 13])], STANDARD, 0.5)
    # Row 11: y = -4/5, sigma = 2 / (1 + e^-4) - 1 = 0.964028.
    assert (tp, fp, fn) == (1, 0, 0)
    assert raw == pytest.approx(0.964028 / 0.986614, abs=1e-5)


def test_missed_window_costs_a_fn_per_profile() -> None:
    assert score_at_threshold([one_file([])], STANDARD, 0.5)[0] == pytest.approx(-1.0)
    assert score_at_threshold([one_file([])], LOW_FN, 0.5)[0] == pytest.approx(-2.0)


def test_false_positive_before_any_window_costs_full_a_fp() -> None:
    raw, tp, fp, fn = score_at_threshold([one_file([5, 10])], STANDARD, 0.5)
    assert (tp, fp, fn) == (1, 1, 0)
    assert raw == pytest.approx(1.0 - 0.11)
    raw_low_fp, *_ = score_at_threshold([one_file([5, 10])], LOW_FP, 0.5)
    assert raw_low_fp == pytest.approx(1.0 - 0.22)


def test_false_positive_after_window_is_scaled_by_distance() -> None:
    # Row 16 after window 10..14 (width 5): y = (16 - 14) / (5 - 1) = 0.5,
    # sigma = 2 / (1 + e^2.5) - 1 = -0.848284; cost 0.11 * 0.848284.
    raw, tp, fp, fn = score_at_threshold([one_file([16])], STANDARD, 0.5)
    assert (tp, fp, fn) == (0, 1, 1)
    assert raw == pytest.approx(-1.0 - 0.11 * 0.848284, abs=1e-6)


def test_false_positive_just_after_window_is_almost_free() -> None:
    # Row 15: y = 1/4, sigma = 2 / (1 + e^1.25) - 1 = -0.554600.
    raw, *_ = score_at_threshold([one_file([10, 15])], STANDARD, 0.5)
    assert raw == pytest.approx(1.0 - 0.11 * 0.554600, abs=1e-6)


def test_far_false_positive_costs_full_a_fp() -> None:
    # 3 window widths past the right edge and beyond: sigma is clamped to -1.
    f = one_file([10, 14 + 12], n=40)
    raw, *_ = score_at_threshold([f], STANDARD, 0.5)
    assert raw == pytest.approx(1.0 - 0.11)


def test_probationary_rows_are_never_scored() -> None:
    # n = 20: rows 0..2 are probationary, a detection there costs nothing.
    raw, tp, fp, fn = score_at_threshold([one_file([0, 1, 2, 10])], STANDARD, 0.5)
    assert (tp, fp, fn) == (1, 0, 0)
    assert raw == pytest.approx(1.0)


def test_window_inside_probation_is_not_counted() -> None:
    f = one_file([1], windows=((0, 2), (10, 14)))
    result = score_corpus([f], STANDARD, threshold=0.5)
    assert (result.tp, result.fn) == (0, 1)
    assert result.null == -1.0 and result.perfect == 1.0


def test_false_positive_after_second_window_measures_from_it() -> None:
    # Windows 6..7 (width 2) and 10..14 (width 5); row 16 is measured from the second.
    f = one_file([6, 10, 16], windows=((6, 7), (10, 14)))
    raw, tp, fp, fn = score_at_threshold([f], STANDARD, 0.5)
    assert (tp, fp, fn) == (2, 1, 0)
    assert raw == pytest.approx(2.0 - 0.11 * 0.848284, abs=1e-6)


def test_row_weights_mark_windows_and_probation() -> None:
    weight, window = row_weights(20, [(10, 14)], STANDARD)
    assert window[:3].tolist() == [-2, -2, -2]
    assert window[10:15].tolist() == [0] * 5
    assert weight[10] == pytest.approx(1.0)
    assert weight[5] == pytest.approx(-0.11)


def test_overlapping_windows_are_rejected() -> None:
    with pytest.raises(ValueError, match="overlap"):
        row_weights(20, [(5, 10), (8, 12)], STANDARD)


def test_threshold_sweep_picks_the_best_threshold() -> None:
    # Row 10 (left edge) scores 0.6; three FPs before the window score 0.8 and one 0.4.
    scores = np.zeros(20)
    scores[[4, 5, 6]] = 0.8
    scores[7] = 0.4
    scores[10] = 0.6
    f = NabFile(name="f.csv", scores=scores, windows=((10, 14),))
    thresholds, totals = threshold_curve([f], STANDARD)
    # 1.1: nothing -> -1; 0.8: three FPs -> -1.33; 0.6: + TP -> 0.67; 0.4: -> 0.56; 0: lots.
    assert thresholds[:4].tolist() == [1.1, 0.8, 0.6, 0.4]
    assert totals[:4] == pytest.approx([-1.0, -1.33, 0.67, 0.56])
    result = score_corpus([f], STANDARD)
    assert result.threshold == 0.6
    assert result.raw == pytest.approx(0.67)
    # Normalised: 100 * (0.67 - -1) / (1 - -1).
    assert result.score == pytest.approx(83.5)


def test_threshold_is_shared_across_files() -> None:
    a = one_file([10], value=0.9)
    b = NabFile(name="b.csv", scores=np.r_[np.zeros(5), 0.9, np.zeros(14)], windows=())
    result = score_corpus([a, b], STANDARD)
    assert result.threshold == 0.9
    assert (result.tp, result.fp, result.fn) == (1, 1, 0)
    assert result.raw == pytest.approx(1.0 - 0.11)


def test_null_detector_scores_zero_and_perfect_scores_hundred() -> None:
    windows = ((10, 14), (30, 34))
    null = NabFile(name="f.csv", scores=np.zeros(60), windows=windows)
    perfect_scores = np.zeros(60)
    perfect_scores[[10, 30]] = 1.0
    perfect = NabFile(name="f.csv", scores=perfect_scores, windows=windows)
    for profile in PROFILES.values():
        # The null detector never detects: no threshold lets it fire.
        assert score_corpus([null], profile, threshold=1.1).score == pytest.approx(0.0)
        assert score_corpus([perfect], profile).score == pytest.approx(100.0)


def test_constant_scores_can_beat_null_at_threshold_zero() -> None:
    # With threshold 0 every row fires: 2 TPs at the left edges and 41 FPs (60 rows less
    # 9 probationary and 10 in windows). Missing both windows costs 4 under low-FN, more
    # than the FPs cost, so NAB's sweep picks 0: a constant detector is not the null one.
    f = NabFile(name="f.csv", scores=np.zeros(60), windows=((10, 14), (30, 34)))
    result = score_corpus([f], LOW_FN)
    assert result.threshold == 0.0
    assert (result.tp, result.fp, result.fn) == (2, 41, 0)
    assert result.raw > -4.0


def test_corpus_without_windows_scores_zero() -> None:
    f = NabFile(name="f.csv", scores=np.zeros(20), windows=())
    result = score_corpus([f], STANDARD)
    assert result.score == 0.0 and result.threshold == 1.1
