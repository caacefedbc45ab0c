"""Problem records: the same signature recurring N times within a window opens a problem,
linked to its incidents; a verified fix turns it into a known error with a workaround.

>>> from healops.config.itsm import ProblemRule
>>> rule = ProblemRule(occurrences=3, window_s=100)
>>> recurs(rule, [0.0, 50.0], now=60.0), recurs(rule, [0.0, 50.0, 90.0], now=90.0)
(False, True)
>>> recurs(rule, [0.0, 150.0, 160.0], now=160.0)
False
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from healops.config.itsm import ProblemRule

__all__ = ["ProblemRecord", "known_error_note", "recurs"]


def recurs(rule: ProblemRule, times: Sequence[float], *, now: float) -> bool:
    """Has the signature occurred ``rule.occurrences`` times within the window up to now?"""
    return sum(1 for t in times if now - rule.window_s <= t <= now) >= rule.occurrences


@dataclass
class ProblemRecord:
    id: str
    signature: str
    state: str  # "open" | "known_error" | "resolved" | "closed"
    title: str
    opened_at: float
    updated_at: float
    incident_ids: list[str] = field(default_factory=list)
    known_error: str = ""
    workaround: str = ""

    @property
    def open(self) -> bool:
        return self.state in ("open", "known_error")

    def link(self, incident_id: str, *, now: float) -> bool:
        if incident_id in self.incident_ids:
            return False
        self.incident_ids.append(incident_id)
        self.updated_at = now
        return True


def known_error_note(signature: str, fixes: dict[tuple[str, str], tuple[int, int]]) -> tuple[
        str, str]:
    """The known-error note and workaround from the verified fixes of a signature.

    ``fixes`` maps (action, runbook) to (successes, failures).

    >>> known_error_note("disk_filling:api", {("clean_disk", "clean-disk"): (3, 1)})[1]
    'clean_disk (runbook clean-disk): verified 3 of 4 times'
    """
    fault, _, component = signature.partition(":")
    ranked = sorted(((s, -f, a, rb) for (a, rb), (s, f) in fixes.items() if s > 0), reverse=True)
    if not ranked:
        return "", ""
    s, nf, action, rb = ranked[0]
    workaround = f"{action} (runbook {rb or 'none'}): verified {s} of {s - nf} times"
    note = (f"Known error: {fault or signature} on {component or 'unknown'} recurs; "
            f"it has been fixed by {action}. Find and remove the underlying cause.")
    return note, workaround
