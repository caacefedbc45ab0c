from __future__ import annotations

import math

import pytest

from healops.detect.exhaustion import ExhaustionDetector

HOUR = 3600.0
DAY = 86400.0


def test_disk_filling_two_percent_an_hour() -> None:
    d = ExhaustionDetector(limit=100.0, horizon=24 * HOUR, step_seconds=300.0, span=36.0)
    for i in range(100):
        d.learn_one(50.0 + 2.0 * i / 12.0)  # 5-minute samples
    x = 50.0 + 2.0 * 100 / 12.0
    assert d.seconds_to_exhaustion(x) / HOUR == pytest.approx((100.0 - x) / 2.0, rel=1e-6)
    assert d.score_one(x) == pytest.approx(1.0 - (100.0 - x) / 2.0 / 24.0, rel=1e-6)


def test_certificate_days_left() -> None:
    d = ExhaustionDetector(limit=0.0, rising=False, horizon=14 * DAY, step_seconds=DAY)
    for day in range(20):
        d.learn_one(60.0 - day)
    assert d.seconds_to_exhaustion(40.0) / DAY == pytest.approx(40.0)
    assert d.score_one(40.0) == 0.0
    assert d.score_one(7.0) == pytest.approx(0.5)


def test_flat_or_receding_trend_never_exhausts() -> None:
    d = ExhaustionDetector(limit=100.0, horizon=HOUR)
    for i in range(50):
        d.learn_one(80.0 - 0.1 * i)
    assert math.isinf(d.seconds_to_exhaustion(75.0))
    assert d.score_one(75.0) == 0.0


def test_already_past_the_limit_scores_one() -> None:
    d = ExhaustionDetector(limit=100.0, horizon=HOUR, grace_period=1)
    d.learn_one(99.0)
    assert d.score_one(100.0) == 1.0
