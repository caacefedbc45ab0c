"""Maintenance windows: one-off and weekly (UTC), what they mute and what they let through,
at their edges, across midnight and across the end of the week."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from healops.config.models import CorrelationConfig, MaintenanceWindowConfig
from healops.correlate.maintenance import MaintenanceMuter, MaintenanceWindow
from healops.domain.signals import Anomaly, SeriesKey

MON = 1_799_020_800.0  # 2027-01-04T00:00:00Z, a Monday
H = 3600.0
DAY = 24 * H


def anomaly(service: str, kind: str = "errors") -> Anomaly:
    return Anomaly(SeriesKey.of("error_ratio", service=service), kind, 1.0, 0.5, 0.0, MON, MON)


def test_a_one_off_window_mutes_its_services_from_start_up_to_not_including_end() -> None:
    muter = MaintenanceMuter([MaintenanceWindow.once(["db", "cache"], start=MON + H,
                                                     end=MON + 2 * H, name="db upgrade")])
    db, cache, api = anomaly("db"), anomaly("cache", "down"), anomaly("api")
    assert [muter(db, MON + t) for t in (H - 1, H, 1.5 * H, 2 * H - 1, 2 * H)] == [
        False, True, True, True, False]
    assert muter(cache, MON + H)
    assert not muter(api, MON + 1.5 * H)  # a service not in the window is let through
    w = muter.window_for("db", MON + H)
    assert w is not None and w.name == "db upgrade"
    assert muter.window_for("api", MON + H) is None


def test_a_weekly_window_opens_on_its_days_only() -> None:
    # Tuesdays and Thursdays, 02:00 to 04:00 UTC.
    w = MaintenanceWindow.weekly(["db"], days=[1, 3], at_s=2 * H, duration_s=2 * H)
    opened = [day for day in range(14) if w.active(MON + day * DAY + 3 * H)]
    assert opened == [1, 3, 8, 10]
    tue = MON + DAY
    assert [w.active(tue + t) for t in (2 * H - 1, 2 * H, 4 * H - 1, 4 * H)] == [
        False, True, True, False]


def test_a_weekly_window_runs_past_midnight_and_past_the_end_of_the_week() -> None:
    # Sundays 23:00 for three hours: into Monday 02:00.
    w = MaintenanceWindow.weekly(["db"], days=[6], at_s=23 * H, duration_s=3 * H)
    sun = MON + 6 * DAY
    assert not w.active(sun + 22 * H)
    assert w.active(sun + 23 * H) and w.active(sun + DAY + 1 * H)
    assert not w.active(sun + DAY + 2 * H)
    assert w.active(MON - DAY + 23.5 * H)  # the Sunday before, too
    assert not w.active(MON + 23.5 * H)  # Monday 23:30 is not Sunday


def test_weekly_windows_from_the_config_file() -> None:
    cfg = CorrelationConfig.model_validate({"maintenance": [
        {"name": "patching", "services": ["db"], "days": ["sun"], "at": "23:00",
         "duration_s": 3 * H},
        {"services": ["api"], "start": "2027-01-04T10:00:00Z", "end": MON + 11 * H},
    ]})
    muter = MaintenanceMuter.from_config(cfg.maintenance)
    assert muter(anomaly("db"), MON + 6 * DAY + 23 * H)
    assert not muter(anomaly("db"), MON + 6 * DAY + 22.99 * H)
    assert muter(anomaly("api"), MON + 10 * H) and not muter(anomaly("api"), MON + 11 * H)


@pytest.mark.parametrize(("window", "says"), [
    ({"services": ["db"], "start": MON}, "needs both start and end"),
    ({"services": ["db"], "start": MON, "end": MON}, "not after start"),
    ({"services": ["db"], "start": MON, "end": MON + H, "days": ["mon"]}, "mixes both"),
    ({"services": ["db"], "days": ["mon"]}, "days, at and duration_s"),
    ({"services": ["db"], "days": ["monday"], "at": "02:00", "duration_s": H}, "'mon'"),
    ({"services": ["db"], "days": ["mon"], "at": "24:00", "duration_s": H}, "pattern"),
    ({"services": ["db"], "days": ["mon"], "at": "02:00", "duration_s": 8 * DAY}, "604800"),
    ({"services": [], "start": MON, "end": MON + H}, "at least 1 item"),
])
def test_a_bad_window_says_what_to_write(window: dict[str, object], says: str) -> None:
    with pytest.raises(ValidationError) as err:
        MaintenanceWindowConfig.model_validate(window)
    assert says in str(err.value)


def test_a_window_is_one_kind_or_the_other() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        MaintenanceWindow(frozenset({"db"}))
    with pytest.raises(ValueError, match="end after its start"):
        MaintenanceWindow.once(["db"], start=MON, end=MON)
    with pytest.raises(ValueError, match="at most a week"):
        MaintenanceWindow.weekly(["db"], days=[0], at_s=0, duration_s=0)
