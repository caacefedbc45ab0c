from __future__ import annotations

from healops.detect.seasonal import SeasonalResidualDetector

DAY = [0.0, 5.0, 20.0, 30.0, 20.0, 5.0]


def test_score_is_zero_during_warm_up() -> None:
    d = SeasonalResidualDetector(period=6, warmup_periods=3)
    for i in range(17):
        assert d.score_one(1000.0) == 0.0
        d.learn_one(DAY[i % 6])


def test_usual_value_for_the_hour_is_quiet_and_wrong_hour_is_loud() -> None:
    d = SeasonalResidualDetector(period=6, warmup_periods=2)
    for i in range(60):
        d.learn_one(DAY[i % 6] + (0.5 if (i // 6) % 2 else -0.5))  # noise across days
    # Phase 0 is next: 0 is normal there; 30 (the peak's level) is not.
    assert d.phase == 0
    assert d.score_one(0.0) < 0.2
    assert d.score_one(30.0) == 1.0
