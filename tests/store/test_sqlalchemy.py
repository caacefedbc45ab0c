from __future__ import annotations

from pathlib import Path

from healops.domain.actions import ActionResult, ActionRun
from healops.domain.incidents import Incident, IncidentState
from healops.store.sqlalchemy import SqlAlchemyStore


def test_journal_intent_is_written_once_and_result_after(tmp_path: Path) -> None:
    store = SqlAlchemyStore(f"sqlite:///{tmp_path / 'h.db'}")
    run = ActionRun("I/0/0/rollback", "I", "rollback", "api", 1.0)
    assert store.record_intent(run) is True
    assert store.record_intent(run) is False  # same key: never a second intent
    assert [r.key for r in store.unfinished_intents()] == [run.key]
    store.record_result(run.key, ActionResult(True, "ok"), 2.0)
    assert store.unfinished_intents() == []
    # A new store on the same file sees the same journal (durable, migrated once).
    again = SqlAlchemyStore(f"sqlite:///{tmp_path / 'h.db'}")
    got = again.get_run(run.key)
    assert got is not None and got.result is not None and got.result.ok


def test_incident_timeline_is_appended() -> None:
    store = SqlAlchemyStore("sqlite://")
    inc = Incident.open("I", key="api:errors", service="api", now=1.0)
    store.save_incident(inc, inc.timeline)
    inc.transition(IncidentState.DIAGNOSING, now=2.0)
    store.save_incident(inc, inc.timeline[1:])
    assert [e.kind for e in store.timeline("I")] == ["opened", "state"]
    assert store.incident_states() == {"I": "diagnosing"}
