"""The observe port. A ``Source`` yields the signals it has gathered since it was last polled.

A plain function ``(now) -> Iterable[Signal]`` is a valid source too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from healops.domain.signals import Signal

__all__ = ["Source", "SourceError"]


class SourceError(Exception):
    """A source could not read its input. ``retryable`` says whether polling again may help."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class Source(Protocol):
    def __call__(self, now: float) -> Iterable[Signal]: ...
