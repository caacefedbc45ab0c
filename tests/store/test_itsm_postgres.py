"""The ITSM tables, migration and audit chain on a real PostgreSQL (started here).

PostgreSQL refuses to run as root, so as root the server runs as the ``postgres`` user.
Without the binaries the test is skipped with the reason, unless ``CI`` is set: then it
fails (Debian: ``apt install postgresql``).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from healops.domain.incidents import IncidentState
from healops.itsm.incidents import ItilState
from healops.store.itsm_repo import ItsmRepository
from healops.store.sqlalchemy import SqlAlchemyStore

pytestmark = pytest.mark.integration


def _bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _missing(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI is set and {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
    if not initdb or not pg_ctl:
        _missing("PostgreSQL's initdb/pg_ctl are not installed (Debian: apt install postgresql)")
    assert initdb and pg_ctl
    root = os.geteuid() == 0
    if root:
        try:
            import pwd

            pw = pwd.getpwnam("postgres")
        except KeyError:
            _missing("running as root and there is no 'postgres' user to run the server as")
    base = Path(tempfile.mkdtemp(prefix="healops-pg-"))
    if root:
        os.chown(base, pw.pw_uid, pw.pw_gid)

    def run(*cmd: str) -> None:
        full = ["runuser", "-u", "postgres", "--", *cmd] if root else list(cmd)
        subprocess.run(full, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    port = _free_port()
    data = base / "data"
    run(initdb, "-D", str(data), "-A", "trust", "-U", "postgres")
    run(pg_ctl, "-D", str(data), "-l", str(base / "log"), "-w", "-o",
        f"-p {port} -k {base} -c listen_addresses=127.0.0.1", "start")
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.1)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        run(pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(base, ignore_errors=True)


def test_records_and_the_audit_chain_on_postgresql(pg_url: str) -> None:
    from tests.itsm.test_recorder import Driver  # the same driver as the SQLite tests

    inner = SqlAlchemyStore(pg_url)
    try:
        _scenario(inner, Driver())
    finally:
        inner.engine.dispose()


def _scenario(inner: SqlAlchemyStore, d: object) -> None:
    from tests.itsm.test_recorder import Driver

    from healops.config.itsm import ItsmConfig
    from healops.itsm.recorder import RecordingStore

    assert isinstance(d, Driver)
    d.repo = ItsmRepository(inner.engine)
    d.store = RecordingStore(inner, d.repo,
                             ItsmConfig.model_validate({"problems": {"occurrences": 2}}),
                             topology=d.store.topology, runbooks=d.store.runbooks)
    a = d.incident("A", 0.0, service="worker", kind="disk_filling",
                   signature="disk_filling:worker")
    d.act(a, "clean_disk", "worker-1", 60.0)
    b = d.incident("B", 100.0, service="worker", kind="disk_filling",
                   signature="disk_filling:worker")
    b.transition(IncidentState.RESOLVED, now=200.0)
    d.save(b)
    recs = {r.id: r for r in d.repo.list_incident_records(service="worker")}
    assert recs["B"].state is ItilState.RESOLVED and recs["A"].problem_id == "PRB-B"
    assert [r.id for r in d.repo.list_incident_records()] == ["A", "B"]  # open first
    [p] = d.repo.list_problems()
    assert p.incident_ids == ["A", "B"] and p.state == "known_error"
    assert d.repo.list_changes()[0].outcome == "successful"
    assert d.repo.verify_audit().ok
    with inner.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2"))
    assert any("modified" in x for x in d.repo.verify_audit().problems)
