"""Change records: every automated action is a change, linked to its incident.

An action the policy let run on its own, from a runbook that has earned it (enough
verified successes, ``itsm.changes.standard_min_successes``), is a *standard* change:
pre-approved by the policy. Anything a human had to approve, or a runbook still earning its
record, is a *normal* change with its approver. A change runs through::

    awaiting_approval -> scheduled -> implementing -> review -> closed (successful|unsuccessful)
                      \\-> rejected                                    canceled (never ran)

>>> c = ChangeRecord.request("I1", 0, "rollback", "api", kind="standard", now=5.0,
...                          reason="low risk", rule="gate:low", runbook="rb")
>>> c.id, c.state
('CHG-I1-0', 'scheduled')
>>> c.start("I1/0/0/rollback", now=6.0, dry_run=False); c.finish(True, "ok", now=7.0)
>>> c.close(successful=True, now=40.0); c.state, c.outcome
('closed', 'successful')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from healops.config.models import RunbookConfig

__all__ = ["ChangeRecord", "find_runbook"]

OPEN_STATES = ("awaiting_approval", "scheduled", "implementing", "review")


@dataclass
class ChangeRecord:
    id: str
    incident_id: str
    kind: str  # "standard" | "normal"
    state: str
    action: str
    target: str
    requested_at: float
    runbook: str = ""
    risk: str = ""
    reason: str = ""
    rule: str = ""
    approved_at: float | None = None
    approved_by: str = ""
    action_key: str = ""
    dry_run: bool = False
    started_at: float | None = None
    finished_at: float | None = None
    result: str = ""
    outcome: str = ""  # "" | "successful" | "unsuccessful"
    closed_at: float | None = None
    backout_of: str = ""

    @classmethod
    def request(cls, incident_id: str, n: int, action: str, target: str, *, kind: str,
                now: float, reason: str, rule: str, runbook: str = "", risk: str = "",
                needs_approval: bool = False, approved_by: str = "") -> ChangeRecord:
        c = cls(f"CHG-{incident_id}-{n}", incident_id, kind,
                "awaiting_approval" if needs_approval else "scheduled", action, target, now,
                runbook, risk, reason, rule)
        if not needs_approval:
            c.approved_at, c.approved_by = now, approved_by or f"policy:{rule or 'auto'}"
        return c

    @property
    def open(self) -> bool:
        return self.state in OPEN_STATES

    def approve(self, by: str, *, now: float) -> None:
        if self.state != "awaiting_approval":
            raise ValueError(f"change {self.id} is {self.state}, not awaiting approval")
        self.state, self.approved_at, self.approved_by = "scheduled", now, by

    def reject(self, by: str, *, now: float, comment: str = "") -> None:
        self.state, self.closed_at = "rejected", now
        self.result = f"rejected by {by}" + (f": {comment}" if comment else "")

    def start(self, key: str, *, now: float, dry_run: bool) -> None:
        self.state, self.action_key, self.started_at, self.dry_run = \
            "implementing", key, now, dry_run

    def finish(self, ok: bool, message: str, *, now: float) -> None:
        self.finished_at = now
        self.result = ("ran" if ok else "failed to run") + (f": {message}" if message else "")
        if ok:
            self.state = "review"  # ran; verification decides whether it worked
        else:
            self.close(successful=False, now=now)

    def close(self, *, successful: bool, now: float) -> None:
        self.state, self.closed_at = "closed", now
        self.outcome = "successful" if successful else "unsuccessful"

    def cancel(self, reason: str, *, now: float) -> None:
        self.state, self.closed_at, self.result = "canceled", now, reason


def find_runbook(runbooks: Sequence[RunbookConfig], action: str, service: str,
                 signature: str = "") -> RunbookConfig | None:
    """The runbook an action came from: one with that step for that service, preferring
    one for the incident's diagnosed fault (``signature`` is ``fault:component``)."""
    fault = signature.split(":", 1)[0]
    fits = [rb for rb in runbooks if any(s.action == action for s in rb.steps)
            and (not rb.services or service in rb.services)]
    return next((rb for rb in fits if rb.fault == fault), fits[0] if fits else None)
