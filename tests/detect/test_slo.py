from __future__ import annotations

import pytest

from healops.detect.slo import SloBurnRateDetector

BUDGET = 0.001  # objective 99.9 %


def fed(values: list[tuple[float, int]]) -> SloBurnRateDetector:
    """A detector fed with minute samples: (error ratio, minutes) runs."""
    d = SloBurnRateDetector(objective=0.999, step_seconds=60.0)
    for ratio, minutes in values:
        for _ in range(minutes):
            d.learn_one(ratio)
    return d


def test_fast_burn_pages_only_when_both_windows_burn() -> None:
    d = fed([(0.0, 3 * 24 * 60), (15 * BUDGET, 60)])
    assert d.burn_rate(3600.0) == pytest.approx(15.0)
    assert d.score_one(15 * BUDGET) == 1.0
    # The short window recovered: the 1-hour burn alone no longer pages (and the 6-hour
    # window, at 55 * 20 / 360 = 3x, is below its 6x); 3x over 6 h still opens a ticket.
    d = fed([(0.0, 6 * 60), (20 * BUDGET, 55), (0.0, 5)])
    assert d.burn_rate(3600.0, 0.0) >= 14.4
    assert d.score_one(0.0) == 0.5


def test_slow_burn_pages_at_six_times() -> None:
    d = fed([(0.0, 60), (7 * BUDGET, 6 * 60)])
    assert d.score_one(7 * BUDGET) == 1.0


def test_budget_rate_burn_opens_a_ticket() -> None:
    d = fed([(1.5 * BUDGET, 3 * 24 * 60)])
    assert d.score_one(1.5 * BUDGET) == 0.5


def test_within_budget_is_quiet() -> None:
    d = fed([(0.5 * BUDGET, 3 * 24 * 60)])
    assert d.score_one(0.5 * BUDGET) == 0.0


def test_running_sums_match_a_recount() -> None:
    d = fed([(0.002, 400), (0.0, 100), (0.004, 30)])
    last_hour = [0.0] * 30 + [0.004] * 30
    assert d.burn_rate(3600.0) == pytest.approx(sum(last_hour) / 60 / BUDGET)


def test_invalid_objective_is_rejected() -> None:
    with pytest.raises(ValueError):
        SloBurnRateDetector(objective=1.0)
