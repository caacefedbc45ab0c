from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from healops.itsm.cli import register

from .test_recorder import Driver


def test_postmortem_command_drafts_markdown_from_the_database(tmp_path: Path) -> None:
    from healops.config.itsm import ItsmConfig
    from healops.domain.incidents import IncidentState
    from healops.itsm.recorder import RecordingStore
    from healops.store.itsm_repo import ItsmRepository
    from healops.store.sqlalchemy import SqlAlchemyStore

    url = f"sqlite:///{tmp_path / 'h.db'}"
    d = Driver()
    inner = SqlAlchemyStore(url)
    d.repo = ItsmRepository(inner.engine)
    d.store = RecordingStore(inner, d.repo, ItsmConfig(), topology=d.store.topology,
                             runbooks=d.store.runbooks)
    inc = d.incident("I9", 0.0)
    d.act(inc, "rollback", "api", 40.0)
    inc.transition(IncidentState.RESOLVED, now=300.0, note="resolved by automation: verified")
    d.save(inc)
    app = typer.Typer()
    register(app)
    res = CliRunner().invoke(app, ["postmortem", "I9", "--db", url])
    assert res.exit_code == 0, res.output
    assert res.output.startswith("# Postmortem: I9")
    assert "Duration: 5m 00s" in res.output
    assert "| CHG-I9-0 | standard | rollback api |" in res.output
    missing = CliRunner().invoke(app, ["postmortem", "NOPE", "--db", url])
    assert missing.exit_code == 2
