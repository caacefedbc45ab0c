"""The contract every detector keeps, run against each one."""

from __future__ import annotations

import math
import pickle
from collections.abc import Callable

import pytest

from healops.detect.bank import EnsembleBank
from healops.detect.base import Detector
from healops.detect.changepoint import CusumDetector
from healops.detect.ensemble import EnsembleDetector
from healops.detect.ewma import EwmaDetector
from healops.detect.exhaustion import ExhaustionDetector
from healops.detect.robust_z import RobustZDetector
from healops.detect.seasonal import SeasonalResidualDetector
from healops.detect.slo import SloBurnRateDetector
from healops.detect.threshold import ThresholdDetector

FACTORIES: dict[str, Callable[[], Detector]] = {
    "threshold": lambda: ThresholdDetector(upper=60.0, clear_upper=55.0),
    "ewma": lambda: EwmaDetector(grace_period=5),
    "robust_z": lambda: RobustZDetector(window=30, grace_period=5),
    "seasonal": lambda: SeasonalResidualDetector(period=7, warmup_periods=2),
    "cusum": lambda: CusumDetector(grace_period=5),
    "exhaustion": lambda: ExhaustionDetector(limit=100.0, horizon=3600.0, step_seconds=60.0),
    "slo": lambda: SloBurnRateDetector(objective=0.99, step_seconds=300.0),
    "ensemble": lambda: EnsembleDetector(grace_period=20),
    "ensemble_with_rules": lambda: EnsembleDetector(
        grace_period=20, rules=[ThresholdDetector(upper=80.0)],
        bank=EnsembleBank(size=1, grace_period=20)),
}


def stream() -> list[float]:
    """Noise, a spike, a level shift and a ramp: something for every detector to see."""
    xs = [40.0 + 3.0 * math.sin(i * 0.9) + (i % 3) for i in range(120)]
    xs[70] = 95.0
    xs[90:] = [x + 25.0 for x in xs[90:]]
    xs += [65.0 + 0.5 * i for i in range(40)]
    return xs


def run(d: Detector, xs: list[float]) -> list[float]:
    out = []
    for x in xs:
        out.append(d.score_one(x))
        d.learn_one(x)
    return out


@pytest.fixture(params=sorted(FACTORIES))
def make(request: pytest.FixtureRequest) -> Callable[[], Detector]:
    return FACTORIES[request.param]


def test_scores_are_in_unit_interval(make: Callable[[], Detector]) -> None:
    scores = run(make(), stream())
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert max(scores) > 0.0, "the stream holds anomalies; a detector must see something"


def test_score_one_does_not_mutate_state(make: Callable[[], Detector]) -> None:
    d = make()
    for x in stream()[:100]:
        before = pickle.dumps(d)
        d.score_one(x)
        d.score_one(x + 1000.0)
        assert pickle.dumps(d) == before
        d.learn_one(x)


def test_scores_before_learning(make: Callable[[], Detector]) -> None:
    d = make()
    for x in stream():
        untaught = pickle.loads(pickle.dumps(d))
        score = d.score_one(x)
        d.learn_one(x)
        assert untaught.score_one(x) == score


def test_pickle_round_trip_continues_identically(make: Callable[[], Detector]) -> None:
    xs = stream()
    d = make()
    run(d, xs[:80])
    clone = pickle.loads(pickle.dumps(d))
    assert run(clone, xs[80:]) == run(d, xs[80:])


def test_deterministic(make: Callable[[], Detector]) -> None:
    assert run(make(), stream()) == run(make(), stream())
