from __future__ import annotations

from healops.detect.ensemble import EnsembleDetector
from healops.detect.slo import SloBurnRateDetector
from healops.detect.threshold import ThresholdDetector


def test_rules_raise_the_score_to_their_own() -> None:
    d = EnsembleDetector(rules=[ThresholdDetector(upper=0.5)])
    # Inside the grace period the learned part is silent, but a configured rule is not.
    assert d.score_one(0.1) == 0.0
    assert d.score_one(0.9) == 1.0


def test_rules_learn_alongside_the_ensemble() -> None:
    slo = SloBurnRateDetector(objective=0.99, step_seconds=60.0)
    d = EnsembleDetector(rules=[slo])
    for _ in range(120):
        d.learn_one(0.5)
    assert len(slo.history) == 120
    assert d.score_one(0.5) == 1.0
