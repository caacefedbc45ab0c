"""The engine's bounded metric history: windows, series that come and go, the bound."""

from __future__ import annotations

import numpy as np
import pytest

from healops.diagnose.history import SeriesHistory
from healops.domain.signals import MetricBatch, SeriesKey


def _key(name: str, service: str, instance: str = "") -> SeriesKey:
    return SeriesKey.of(name, service=service, **({"instance": instance} if instance else {}))


def _feed(h: SeriesHistory, keys: tuple[SeriesKey, ...], ts: float, *values: float) -> None:
    h.observe(MetricBatch(ts, keys, np.array(values, dtype=float)))


def test_a_window_holds_the_samples_in_its_time_range_on_their_grid() -> None:
    h = SeriesHistory(capacity=10)
    keys = (_key("cpu", "db"),)
    for t in range(6):
        _feed(h, keys, 100.0 + 10 * t, float(t))
    f = h.frame(120.0, 140.0)
    assert (len(f), f.start, f.step) == (3, 120.0, 10.0)
    assert f.get(("db", "cpu")).tolist() == [2.0, 3.0, 4.0]
    last = h.frame(-np.inf, 139.0, limit=2)
    assert last.get(("db", "cpu")).tolist() == [2.0, 3.0]
    assert len(h.frame(1000.0, 2000.0)) == 0


def test_instances_are_averaged_into_one_service_series() -> None:
    h = SeriesHistory(capacity=4)
    keys = (_key("errors", "api", "api-1"), _key("errors", "api", "api-2"), _key("up", ""))
    _feed(h, keys, 0.0, 0.0, 1.0, 1.0)
    f = h.frame(0.0, 0.0)
    assert list(f) == [("api", "errors")]  # a series without a service is left out
    assert f.get(("api", "errors")).tolist() == [0.5]


def test_series_that_appear_and_disappear_are_nan_where_they_did_not_report() -> None:
    h = SeriesHistory(capacity=8)
    a, b = _key("lat", "web", "w-1"), _key("lat", "web", "w-2")
    db = _key("cpu", "db")
    _feed(h, (a, db), 0.0, 1.0, 5.0)
    _feed(h, (a, b, db), 10.0, 1.0, 3.0, 5.0)  # w-2 appears
    _feed(h, (b,), 20.0, 3.0)  # w-1 and db disappear
    f = h.frame(0.0, 20.0)
    assert f.get(("web", "lat")).tolist() == [1.0, 2.0, 3.0]
    cpu = f.get(("db", "cpu"))
    assert cpu[:2].tolist() == [5.0, 5.0] and np.isnan(cpu[2])


def test_memory_is_bounded_by_the_window_not_by_every_series_ever_seen() -> None:
    h = SeriesHistory(capacity=5)
    for t in range(200):  # a replica replaced every tick: a new series each time
        _feed(h, (_key("up", "web", f"web-{t}"), _key("up", "db")), float(t), 1.0, 1.0)
    assert len(h) == 5
    assert h.series <= 2 * 5 + 1  # the live ones plus those seen within the window
    assert h.nbytes <= 64 * 5 * 8 + 5 * 8
    assert len(h.frame(0.0, 1e9)) == 5


def test_samples_out_of_time_order_are_ignored() -> None:
    h = SeriesHistory(capacity=4)
    keys = (_key("cpu", "db"),)
    _feed(h, keys, 10.0, 1.0)
    _feed(h, keys, 5.0, 9.0)
    assert h.frame(0.0, 100.0).get(("db", "cpu")).tolist() == [1.0]


def test_a_history_needs_room_for_two_samples() -> None:
    with pytest.raises(ValueError):
        SeriesHistory(capacity=1)
