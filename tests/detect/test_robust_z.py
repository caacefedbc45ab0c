from __future__ import annotations

import pytest

from healops.detect.robust_z import RobustZDetector


def test_outliers_in_the_window_do_not_hide_the_next_one() -> None:
    d = RobustZDetector(window=100, grace_period=10)
    for i in range(100):
        d.learn_one(500.0 if i % 20 == 0 else 10.0 + (i % 4))
    # 5 % of the window is extreme; the median and MAD do not move.
    assert d.score_one(11.0) < 0.2
    assert d.score_one(100.0) == 1.0


def test_window_forgets_old_values() -> None:
    d = RobustZDetector(window=10, grace_period=3)
    for _ in range(10):
        d.learn_one(0.0)
    for i in range(10):
        d.learn_one(100.0 + i % 3)
    assert d.z(101.0) < 1.0


def test_window_must_be_usable() -> None:
    with pytest.raises(ValueError):
        RobustZDetector(window=2)
