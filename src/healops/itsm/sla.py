"""SLA timers: when a response and a resolution are due, and whether they were late.

Pure functions of the record's times and ``now``. Due times run from when the incident
opened, at the targets of its current priority (a re-prioritised incident is judged by its
new priority, as most service desks do). A breach is stamped with its due time, once.

>>> from healops.config.itsm import SlaTarget
>>> t = SlaTarget(response_s=60, resolution_s=600)
>>> s = evaluate(t, opened_at=0, responded_at=None, resolved_at=None, now=30)
>>> s.response_due_at, s.response_breached_at, s.resolution_breached_at
(60.0, None, None)
>>> evaluate(t, opened_at=0, responded_at=90, resolved_at=None, now=100).response_breached_at
60.0
>>> evaluate(t, opened_at=0, responded_at=10, resolved_at=500, now=9999).resolution_breached_at
"""

from __future__ import annotations

from dataclasses import dataclass

from healops.config.itsm import SlaTarget

__all__ = ["SlaStatus", "evaluate"]


@dataclass(frozen=True, slots=True)
class SlaStatus:
    response_due_at: float
    resolution_due_at: float
    response_breached_at: float | None
    resolution_breached_at: float | None

    @property
    def breached(self) -> bool:
        return self.response_breached_at is not None or self.resolution_breached_at is not None


def _late(due: float, done: float | None, now: float) -> float | None:
    met = done if done is not None else now
    return due if met > due else None


def evaluate(target: SlaTarget, *, opened_at: float, responded_at: float | None,
             resolved_at: float | None, now: float) -> SlaStatus:
    response_due = float(opened_at + target.response_s)
    resolution_due = float(opened_at + target.resolution_s)
    return SlaStatus(response_due, resolution_due,
                     _late(response_due, responded_at, now),
                     _late(resolution_due, resolved_at, now))
