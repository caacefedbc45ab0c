"""Verification against live symptoms: the series a cause explained must have stopped firing.

After the step's window the check passes when none of the cause's series, and no new
symptom of the same service, is firing. While some still fire it waits, up to three windows,
because recovering services take a moment to clear their rules' ``clear_s``.

>>> verify_step(Check(started=0, window_s=30, series=("a",), service="api"), {"a"}, set(), 40)
'wait'
>>> verify_step(Check(started=0, window_s=30, series=("a",), service="api"), set(), set(), 40)
'success'
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass
from typing import Literal

__all__ = ["Check", "verify_step"]

Verdict = Literal["wait", "success", "failure"]


@dataclass(frozen=True, slots=True)
class Check:
    started: float
    window_s: float
    series: tuple[str, ...]
    service: str


def verify_step(check: Check, firing: Set[str], service_firing: Set[str], now: float) -> Verdict:
    """``firing``: live series ids of the incident; ``service_firing``: of the service."""
    if now < check.started + check.window_s:
        return "wait"
    bad = any(s in firing for s in check.series) or bool(service_firing)
    if not bad:
        return "success"
    if now < check.started + 3 * check.window_s:
        return "wait"
    return "failure"
