from __future__ import annotations

import pickle

import numpy as np
import pytest

from healops.detect.bank import EnsembleBank
from healops.detect.ensemble import EnsembleDetector


def corpus(seed: int = 5, ticks: int = 700, series: int = 4) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = 100.0 + np.cumsum(rng.normal(0.0, 0.3, (ticks, series)), axis=0)
    x += rng.normal(0.0, 1.0, (ticks, series))
    if ticks > 500:
        x[400, 0] += 40.0  # a spike
        x[500:, 1] += 15.0  # a level shift
        x[300:, 2] = x[300, 2]  # a flatline
    return x


def run_bank(bank: EnsembleBank, x: np.ndarray) -> np.ndarray:
    out = np.zeros_like(x)
    for t in range(len(x)):
        out[t] = bank.score_many(x[t])
        bank.learn_many(x[t])
    return out


def test_scalar_detector_gives_the_bank_scores() -> None:
    x = corpus()
    bank_scores = run_bank(EnsembleBank(size=x.shape[1]), x)
    for k in range(x.shape[1]):
        d = EnsembleDetector()
        scalar = []
        for v in x[:, k]:
            scalar.append(d.score_one(float(v)))
            d.learn_one(float(v))
        np.testing.assert_array_equal(np.array(scalar), bank_scores[:, k])


def test_finds_spike_and_shift_once_each() -> None:
    x = corpus()
    # Without the refractory period, so that an earlier small detection on the random walk
    # cannot hide the shift (the refractory period has its own tests below).
    s = run_bank(EnsembleBank(size=x.shape[1], refractory=0), x)
    assert s[400, 0] > 0.5
    assert s[500:510, 1].max() > 0.3
    assert s[:200].max() == 0.0  # the grace period cannot page
    # Fire once at the onset: the shifted level does not keep scoring.
    assert (s[520:, 1] > 0.3).sum() == 0


def test_refractory_period_silences_repeats_but_not_a_far_larger_event() -> None:
    rng = np.random.default_rng(3)
    x = 50.0 + rng.normal(0.0, 1.0, (900, 1))
    x[600, 0] += 8.0  # a spike: it fires and starts the refractory period
    x[620, 0] += 14.0  # a larger one 20 samples later: silenced
    x[640, 0] += 60.0  # a far larger one: it escapes the refractory period
    quiet = run_bank(EnsembleBank(size=1, refractory=60), x)[:, 0]
    eager = run_bank(EnsembleBank(size=1, refractory=0), x)[:, 0]
    assert quiet[600] > 0.0 and eager[600] > 0.0
    assert eager[620] > 0.0 and quiet[620] == 0.0
    assert quiet[640] > 0.5
    assert np.flatnonzero(quiet[641:700]).size == 0


def test_a_record_beaten_by_less_than_fire_at_is_not_news() -> None:
    x = corpus()
    s = run_bank(EnsembleBank(size=x.shape[1]), x)
    assert np.all((s == 0.0) | (s >= 0.03))
    assert (s > 0.0).sum() < 20


def test_learning_without_scoring_matches_scoring_then_learning() -> None:
    x = corpus(ticks=300)
    a, b = EnsembleBank(size=4), EnsembleBank(size=4)
    for t in range(len(x)):
        a.score_many(x[t])
        a.learn_many(x[t])
        b.learn_many(x[t])
    assert pickle.dumps(a) == pickle.dumps(b)


def test_nan_means_no_value_and_leaves_series_untouched() -> None:
    x = corpus(ticks=300)
    gappy = x.copy()
    gappy[250:, 3] = np.nan
    full, holey = EnsembleBank(size=4), EnsembleBank(size=4)
    run_bank(full, x[:250])
    snapshot = pickle.dumps(full)
    run_bank(holey, x[:250])
    scores = run_bank(holey, gappy[250:])
    assert np.all(scores[:, 3] == 0.0)
    # Series 3 is frozen where it stopped; the others carried on.
    frozen = pickle.loads(snapshot)
    assert holey.mean[3] == frozen.mean[3] and holey.n_seen[3] == frozen.n_seen[3]
    assert holey.n_seen[0] == 300


def test_grow_adds_untrained_series() -> None:
    bank = EnsembleBank(size=2)
    run_bank(bank, corpus(ticks=250, series=2))
    bank.grow(3)
    assert bank.size == 3 and bank.n_seen.tolist() == [250.0, 250.0, 0.0]
    assert bank.score_many(np.array([100.0, 100.0, 1e9]))[2] == 0.0
    bank.grow(2)  # never shrinks
    assert bank.size == 3


def test_state_is_small() -> None:
    assert EnsembleBank(size=10).nbytes_per_series <= 2048


def test_wrong_shape_is_rejected() -> None:
    with pytest.raises(ValueError, match="expected 2 values"):
        EnsembleBank(size=2).score_many(np.zeros(3))


def test_scalar_wrapper_rejects_a_bank_of_many() -> None:
    with pytest.raises(ValueError):
        EnsembleDetector(bank=EnsembleBank(size=2))


def _fields(bank: EnsembleBank) -> dict[str, np.ndarray]:
    return {k: np.asarray(v) for k, v in vars(bank).items() if isinstance(v, np.ndarray)}


def test_surprise_holds_while_a_withheld_shift_lasts_and_the_score_fires_once() -> None:
    rng = np.random.default_rng(4)
    noise = rng.normal(0.0, 1.0, (330, 2))
    taught, withheld = EnsembleBank(size=2, grace_period=50), EnsembleBank(size=2,
                                                                         grace_period=50)
    for t in range(300):
        x = np.array([100.0, 10.0]) + noise[t]
        for bank in (taught, withheld):
            bank.assess_many(x)
            bank.learn_many(x)
    seen = []
    for t in range(300, 330):  # series 0 drops by 30 spreads and stays there
        x = np.array([70.0, 10.0]) + noise[t]
        a = taught.assess_many(x)
        taught.learn_many(x)
        b = withheld.assess_many(x)
        withheld.learn_many(np.array([np.nan, x[1]]))  # the caller judged it anomalous
        seen.append((a.score[0], b.surprise[0], b.z[0], b.baseline[0]))
    score, surprise, z, baseline = (np.array(c) for c in zip(*seen, strict=True))
    assert score[0] > 0.5 and np.count_nonzero(score) == 1  # the onset, once
    assert surprise.min() > 0.5  # still as surprising at the end as at the onset
    assert z.max() < -20.0  # signed: below the mean
    assert np.allclose(baseline, baseline[0]) and abs(baseline[0] - 100.0) < 1.0


def test_learning_nan_in_a_scored_place_withholds_only_that_series() -> None:
    x = corpus(ticks=260)
    held, fresh = EnsembleBank(size=4), EnsembleBank(size=4)
    run_bank(held, x[:250])
    run_bank(fresh, x[:250])
    for t in range(250, 260):
        gap = x[t].copy()
        gap[1] = np.nan
        held.assess_many(x[t])  # scored with a value, then withheld
        held.learn_many(gap)
        fresh.score_many(gap)  # never had the value at all
        fresh.learn_many(gap)
    a, b = _fields(held), _fields(fresh)
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    assert held.n_seen.tolist() == [260.0, 250.0, 260.0, 260.0]
