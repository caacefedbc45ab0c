from __future__ import annotations

from pathlib import Path

import pytest
import typer
from sqlalchemy import inspect, text
from typer.testing import CliRunner

from healops.itsm.changes import ChangeRecord
from healops.itsm.cli import register
from healops.itsm.incidents import IncidentRecord, ItilState
from healops.store.itsm_repo import ItsmRepository
from healops.store.sqlalchemy import SqlAlchemyStore


def _cli() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def _repo(tmp_path: Path, n: int = 5) -> tuple[str, ItsmRepository]:
    url = f"sqlite:///{tmp_path / 'h.db'}"
    repo = ItsmRepository(SqlAlchemyStore(url).engine)
    for i in range(1, n + 1):
        repo.append_audit(ts=float(i), actor="policy", kind="decision", subject=f"I{i}",
                          data={"verdict": "auto", "n": i})
    return url, repo


def _exec(repo: ItsmRepository, *sql: str) -> None:
    with repo.engine.begin() as conn:
        for s in sql:
            conn.execute(text(s))


def test_migration_0002_creates_the_itsm_tables() -> None:
    store = SqlAlchemyStore("sqlite://")
    names = set(inspect(store.engine).get_table_names())
    assert {"itsm_incidents", "itsm_changes", "itsm_problems", "audit_log",
            "audit_head"} <= names
    assert "incidents" in names  # 0001 still there


def test_an_intact_chain_verifies(tmp_path: Path) -> None:
    url, repo = _repo(tmp_path)
    report = repo.verify_audit()
    assert report.ok and report.entries == 5
    res = CliRunner().invoke(_cli(), ["audit", "verify", "--db", url])
    assert res.exit_code == 0, res.output
    assert "intact" in res.output and "5 entries" in res.output


@pytest.mark.parametrize("tamper, words", [
    ("UPDATE audit_log SET body = replace(body, '\"auto\"', '\"deny\"') WHERE seq = 3",
     "modified"),
    ("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2", "modified"),
    ("DELETE FROM audit_log WHERE seq = 3", "deleted"),
    ("DELETE FROM audit_log WHERE seq = 5", "deleted from the end"),
])
def test_tampering_is_detected(tmp_path: Path, tamper: str, words: str) -> None:
    url, repo = _repo(tmp_path)
    _exec(repo, tamper)
    report = repo.verify_audit()
    assert not report.ok
    assert any(words in p for p in report.problems), report.problems
    res = CliRunner().invoke(_cli(), ["audit", "verify", "--db", url])
    assert res.exit_code == 1 and "TAMPERED" in res.output


def test_reordered_rows_are_detected(tmp_path: Path) -> None:
    url, repo = _repo(tmp_path)
    # Swap entries 2 and 3 (their sequence numbers), as if the history were rearranged.
    _exec(repo, "UPDATE audit_log SET seq = -1 WHERE seq = 2",
          "UPDATE audit_log SET seq = 2 WHERE seq = 3",
          "UPDATE audit_log SET seq = 3 WHERE seq = -1")
    report = repo.verify_audit()
    assert not report.ok
    assert any("reordered" in p for p in report.problems), report.problems
    assert CliRunner().invoke(_cli(), ["audit", "verify", "--db", url]).exit_code == 1


def test_reordered_contents_are_detected(tmp_path: Path) -> None:
    _, repo = _repo(tmp_path)
    # Keep the sequence column but move the sealed contents between rows.
    _exec(repo, "CREATE TABLE t AS SELECT * FROM audit_log",
          "UPDATE audit_log SET body = (SELECT body FROM t WHERE seq = 4), "
          "hash = (SELECT hash FROM t WHERE seq = 4), "
          "prev_hash = (SELECT prev_hash FROM t WHERE seq = 4) WHERE seq = 3",
          "UPDATE audit_log SET body = (SELECT body FROM t WHERE seq = 3), "
          "hash = (SELECT hash FROM t WHERE seq = 3), "
          "prev_hash = (SELECT prev_hash FROM t WHERE seq = 3) WHERE seq = 4")
    assert not repo.verify_audit().ok


def test_records_round_trip_and_the_queue_puts_open_p1_first() -> None:
    repo = ItsmRepository(SqlAlchemyStore("sqlite://").engine)

    def rec(i: str, prio: str, state: ItilState, opened: float) -> IncidentRecord:
        return IncidentRecord(i, "t", "api", ["api", "db"], state, "open", prio, 1, 1, "ops",
                              opened, opened, opened + 60, opened + 600)

    repo.save_incident_record(rec("a", "P3", ItilState.NEW, 1.0))
    repo.save_incident_record(rec("b", "P1", ItilState.RESOLVED, 0.0))
    repo.save_incident_record(rec("c", "P1", ItilState.IN_PROGRESS, 5.0))
    repo.save_incident_record(rec("d", "P2", ItilState.ON_HOLD, 2.0))
    assert [r.id for r in repo.list_incident_records()] == ["c", "d", "a", "b"]
    assert [r.id for r in repo.list_incident_records(open_only=True, priority="P1")] == ["c"]
    assert [r.id for r in repo.list_incident_records(service="db")] == ["c", "d", "a", "b"]
    got = repo.get_incident_record("d")
    assert got is not None and got.state is ItilState.ON_HOLD and got.services == ["api", "db"]
    c = ChangeRecord.request("c", 0, "rollback", "api", kind="standard", now=6.0,
                             reason="low risk", rule="gate")
    repo.save_change(c)
    assert repo.list_changes(incident_id="c") == [c]
    assert repo.get_change(c.id) == c
