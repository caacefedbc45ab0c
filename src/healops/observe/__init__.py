"""Observe: turn telemetry from the outside world into ``Signal`` values."""

from healops.observe.base import Source

__all__ = ["Source"]
