from __future__ import annotations

from healops.detect.changepoint import CusumDetector


def noisy(level: float, n: int) -> list[float]:
    return [level + (0.5 if i % 2 else -0.5) for i in range(n)]


def test_sustained_shift_accumulates_to_a_detection() -> None:
    d = CusumDetector(grace_period=20, threshold=5.0)
    for x in noisy(10.0, 100):
        assert d.score_one(x) < 0.5
        d.learn_one(x)
    scores = []
    for x in noisy(11.5, 10):
        scores.append(d.score_one(x))
        d.learn_one(x)
    assert scores[0] < 1.0 and max(scores) == 1.0


def test_detection_restarts_from_the_new_level() -> None:
    d = CusumDetector(grace_period=20)
    for x in noisy(10.0, 100) + noisy(20.0, 300):
        d.learn_one(x)
    assert d.score_one(20.0) < 0.5
