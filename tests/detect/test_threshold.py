from __future__ import annotations

import pytest

from healops.detect.threshold import ThresholdDetector


def feed(d: ThresholdDetector, xs: list[float]) -> list[float]:
    out = []
    for x in xs:
        out.append(d.score_one(x))
        d.learn_one(x)
    return out


def test_hysteresis_keeps_firing_until_clear_level() -> None:
    d = ThresholdDetector(upper=90.0, clear_upper=80.0)
    assert feed(d, [89.0, 90.0, 85.0, 81.0, 80.0, 85.0]) == [0, 1, 1, 1, 0, 0]


def test_lower_limit_with_hysteresis() -> None:
    d = ThresholdDetector(lower=10.0, clear_lower=15.0)
    assert feed(d, [20.0, 9.0, 12.0, 16.0, 12.0]) == [0, 1, 1, 0, 0]


def test_without_clear_level_there_is_no_hysteresis() -> None:
    d = ThresholdDetector(upper=5.0)
    assert feed(d, [6.0, 4.9, 5.0]) == [1, 0, 1]


def test_invalid_configuration_is_rejected() -> None:
    with pytest.raises(ValueError):
        ThresholdDetector()
    with pytest.raises(ValueError):
        ThresholdDetector(upper=5.0, clear_upper=6.0)
