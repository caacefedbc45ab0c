"""The store port: what the engine writes durably, and the journal it reconciles from."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from healops.domain.actions import ActionResult, ActionRun, Outcome
from healops.domain.incidents import Incident, TimelineEntry
from healops.domain.plans import Decision

__all__ = ["Store"]


class Store(Protocol):
    def save_incident(self, incident: Incident, new_entries: Sequence[TimelineEntry]) -> None: ...

    def record_intent(self, run: ActionRun) -> bool:
        """Commit an intent; False when one with this key already exists (no re-run)."""

    def record_result(self, key: str, result: ActionResult, finished_at: float) -> None: ...

    def record_decision(self, incident_id: str, action: str, target: str, decision: Decision,
                        ts: float) -> None: ...

    def record_outcome(self, outcome: Outcome) -> None: ...

    def unfinished_intents(self) -> list[ActionRun]: ...

    def get_run(self, key: str) -> ActionRun | None: ...

    # ---- what a restart reads back (see ``Engine.recover``) ---------------------------
    def recent_runs(self, since: float) -> list[ActionRun]:
        """Journalled actions with an intent at or after ``since``, oldest first."""

    def outcomes(self) -> list[Outcome]: ...

    def save_checkpoint(self, incident_id: str, data: str | None, ts: float) -> None:
        """Keep the engine's working state of an unfinished incident; ``None`` drops it."""

    def checkpoints(self) -> list[str]: ...

    def save_state(self, name: str, data: bytes, ts: float) -> None:
        """Keep engine-wide state under ``name`` (the detectors' baselines)."""

    def load_state(self, name: str) -> bytes | None: ...

    def timeline(self, incident_id: str) -> list[TimelineEntry]: ...

    def incident_states(self) -> dict[str, str]: ...
