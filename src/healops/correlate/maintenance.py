"""Maintenance windows: while one is open, its services' anomalies open no incident.

A window is one-off (``start`` up to, not including, ``end``) or weekly: on each of
``days`` (0 is Monday) from ``at_s`` seconds after midnight UTC, for ``duration_s``. A
weekly window may run past midnight, into the next day (and from Sunday into Monday).

>>> MON = 1_799_020_800.0  # 2027-01-04T00:00:00Z, a Monday
>>> w = MaintenanceWindow.weekly(["db"], days=[0], at_s=22 * 3600, duration_s=4 * 3600)
>>> [w.active(MON + h * 3600) for h in (21, 22, 25, 26)]  # Mon 21:00, 22:00, Tue 01:00, 02:00
[False, True, True, False]
>>> w.covers("db", MON + 23 * 3600), w.covers("api", MON + 23 * 3600)
(True, False)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from healops.domain.signals import Anomaly

if TYPE_CHECKING:
    from healops.config.models import MaintenanceWindowConfig

__all__ = ["DAY", "WEEKDAYS", "MaintenanceMuter", "MaintenanceWindow"]

DAY = 86_400.0
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday


@dataclass(frozen=True, slots=True)
class MaintenanceWindow:
    services: frozenset[str]
    name: str = ""
    start: float | None = None  # one-off
    end: float | None = None
    days: frozenset[int] = frozenset()  # weekly
    at_s: float = 0.0
    duration_s: float = 0.0

    def __post_init__(self) -> None:
        once = self.start is not None or self.end is not None
        if once == bool(self.days):
            raise ValueError("a maintenance window is either one-off (start and end) or "
                             "weekly (days, at_s and duration_s); give exactly one")
        if once and (self.start is None or self.end is None or self.end <= self.start):
            raise ValueError("a one-off maintenance window needs an end after its start")
        if not once and not (0 < self.duration_s <= 7 * DAY and 0 <= self.at_s < DAY
                             and self.days <= set(range(7))):
            raise ValueError("a weekly maintenance window needs days in 0..6, at_s within "
                             "the day and a duration_s of more than 0 and at most a week")

    @classmethod
    def once(cls, services: Iterable[str], *, start: float, end: float,
             name: str = "") -> MaintenanceWindow:
        return cls(frozenset(services), name, start=start, end=end)

    @classmethod
    def weekly(cls, services: Iterable[str], *, days: Iterable[int], at_s: float,
               duration_s: float, name: str = "") -> MaintenanceWindow:
        return cls(frozenset(services), name, days=frozenset(days), at_s=at_s,
                   duration_s=duration_s)

    @classmethod
    def from_config(cls, cfg: MaintenanceWindowConfig) -> MaintenanceWindow:
        if cfg.start is not None and cfg.end is not None:
            return cls.once(cfg.services, start=cfg.start, end=cfg.end, name=cfg.name)
        hours, minutes = (int(x) for x in cfg.at.split(":"))
        return cls.weekly(cfg.services, days=(WEEKDAYS.index(d) for d in cfg.days),
                          at_s=hours * 3600.0 + minutes * 60.0, duration_s=cfg.duration_s,
                          name=cfg.name)

    def active(self, now: float) -> bool:
        if self.start is not None and self.end is not None:
            return self.start <= now < self.end
        today = math.floor(now / DAY)
        # A window that opened on an earlier day may still be open now.
        for back in range(math.ceil(self.duration_s / DAY) + 1):
            day = today - back
            if (day + _EPOCH_WEEKDAY) % 7 in self.days:
                opens = day * DAY + self.at_s
                if opens <= now < opens + self.duration_s:
                    return True
        return False

    def covers(self, service: str, now: float) -> bool:
        return service in self.services and self.active(now)


class MaintenanceMuter:
    """A ``Muter``: an anomaly on a service in an open maintenance window is muted."""

    def __init__(self, windows: Iterable[MaintenanceWindow] = ()) -> None:
        self.windows = tuple(windows)

    @classmethod
    def from_config(cls, cfgs: Sequence[MaintenanceWindowConfig]) -> MaintenanceMuter:
        return cls(MaintenanceWindow.from_config(c) for c in cfgs)

    def __call__(self, anomaly: Anomaly, now: float) -> bool:
        return self.window_for(anomaly.service, now) is not None

    def window_for(self, service: str, now: float) -> MaintenanceWindow | None:
        """The first open window that covers ``service``, if any."""
        for w in self.windows:
            if w.covers(service, now):
                return w
        return None
