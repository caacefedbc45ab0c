from __future__ import annotations

import random

from healops.detect.ewma import EwmaDetector


def test_silent_during_grace_period() -> None:
    d = EwmaDetector(grace_period=10)
    for x in range(9):
        d.learn_one(float(x))
    assert d.score_one(1e6) == 0.0


def test_spike_scores_high_and_noise_low() -> None:
    rng = random.Random(3)
    d = EwmaDetector(alpha=0.05)
    for _ in range(300):
        d.learn_one(rng.gauss(50.0, 2.0))
    assert d.score_one(51.0) < 0.2
    assert d.score_one(80.0) == 1.0


def test_adapts_to_a_new_level() -> None:
    d = EwmaDetector(alpha=0.1, grace_period=5)
    for _ in range(50):
        d.learn_one(10.0)
    for _ in range(200):
        d.learn_one(20.0)
    assert d.score_one(20.0) < 0.05
