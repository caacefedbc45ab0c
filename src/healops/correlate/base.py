"""The correlate port: what may mute an anomaly (silences, inhibitions, maintenance)."""

from __future__ import annotations

from typing import Protocol

from healops.domain.signals import Anomaly

__all__ = ["Muter"]


class Muter(Protocol):
    """True when ``anomaly`` must not open or feed an incident at ``now``."""

    def __call__(self, anomaly: Anomaly, now: float) -> bool: ...
