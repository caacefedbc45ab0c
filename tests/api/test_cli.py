"""The CLI: ``token create`` writes a hashed token to the database; the operator commands
talk to a real server on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.api._app import serve_lab
from tests.web._server import ServerThread
from typer.testing import CliRunner

from healops.api.tokens import Role, TokenStore
from healops.cli import app
from healops.domain.incidents import IncidentState
from healops.store.sqlalchemy import make_engine

runner = CliRunner()


def test_token_create_prints_a_working_token_once_and_stores_its_hash(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/healops.db"
    r = runner.invoke(app, ["token", "create", "--role", "approver", "--name", "alice",
                            "--db", db])
    assert r.exit_code == 0, r.output
    token = r.stdout.strip().splitlines()[-1]
    store = TokenStore(make_engine(db))
    info = store.verify(token)
    assert info is not None and info.role is Role.APPROVER and info.name == "alice"
    assert token not in (tmp_path / "healops.db").read_bytes().decode("latin-1")
    listed = runner.invoke(app, ["token", "list", "--db", db])
    assert "alice" in listed.stdout and token not in listed.stdout
    assert runner.invoke(app, ["token", "revoke", info.id, "--db", db]).exit_code == 0
    assert store.verify(token) is None
    bad = runner.invoke(app, ["token", "create", "--role", "root", "--db", db])
    assert bad.exit_code == 2 and "unknown role" in bad.output
    colon = runner.invoke(app, ["token", "create", "--role", "viewer", "--name", "a: b",
                                "--db", db])
    assert colon.exit_code == 2 and "must be" in colon.output


@pytest.mark.integration
def test_operator_commands_over_http() -> None:
    served = serve_lab()
    viewer, approver = served.tokens[Role.VIEWER], served.tokens[Role.APPROVER]
    with ServerThread(served.app) as server:
        base = ["--url", server.url]
        listed = runner.invoke(app, ["incidents", *base, "--token", viewer,
                                     "--state", "awaiting_approval"])
        assert listed.exit_code == 0 and served.pending in listed.stdout
        shown = runner.invoke(app, ["show", served.pending, *base, "--token", viewer])
        assert shown.exit_code == 0 and "awaiting approval: failover db" in shown.stdout
        assert "CHG-" in shown.stdout and "on_hold" in shown.stdout
        books = runner.invoke(app, ["runbooks", *base, "--token", viewer])
        assert books.exit_code == 0 and "failover" in books.stdout
        denied = runner.invoke(app, ["approve", served.pending, *base, "--token", viewer])
        assert denied.exit_code == 1 and "403" in denied.output
        ok = runner.invoke(app, ["approve", served.pending, *base, "--token", approver])
        assert ok.exit_code == 0 and "approved by approver-user" in ok.stdout
        again = runner.invoke(app, ["reject", served.pending, "--comment", "late", *base,
                                    "--token", approver])
        assert again.exit_code == 1 and "409" in again.output
        missing = runner.invoke(app, ["incidents", *base, "--token", ""])
        assert missing.exit_code == 2
    assert served.lab.engine.incidents[served.pending].state in (
        IncidentState.VERIFYING, IncidentState.ACTING)
