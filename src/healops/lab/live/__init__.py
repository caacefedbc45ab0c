"""The live lab: real processes on loopback that break and heal in front of you.

Five small HTTP services (``services.py``) run under the local supervisor, ``api`` behind
HAProxy, with a load generator, a lab CA, a fault injector and a real-time driver that
feeds healops their telemetry. ``healops demo`` starts it; see docs/live-lab.md.

The names below load on first use: every service replica imports this package (it runs
``python -m healops.lab.live.services``) and must not pay for the engine's imports.
"""

from __future__ import annotations

from typing import Any

__all__ = ["FAULTS", "SCHEDULE", "LiveLab", "live_config", "make_fault"]


def __getattr__(name: str) -> Any:
    if name in ("SCHEDULE", "LiveLab", "live_config"):
        from healops.lab.live import driver

        return getattr(driver, name)
    if name in ("FAULTS", "make_fault"):
        from healops.lab.live import faults

        return getattr(faults, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
