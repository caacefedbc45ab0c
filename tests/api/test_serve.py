"""``healops serve --lab`` as a real process: it prints a bootstrap admin token once,
answers on loopback, runs the loop, and the token works against the API."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from tests.web._server import free_port


@contextmanager
def _serving(db: str, log_path: Path) -> Iterator[str]:
    port = free_port()
    log = log_path.open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "healops", "serve", "--lab", "--port",
                             str(port), "--db", db, "--interval", "0.05"],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                            env={**os.environ, "COLUMNS": "200"})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url + "/healthz", timeout=2)
                break
            except httpx.HTTPError:
                assert proc.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, "serve did not listen within 30 s"
                time.sleep(0.2)
        yield url
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


def _ticks(url: str) -> float:
    for line in httpx.get(url + "/metrics").text.splitlines():
        if line.startswith("healops_engine_ticks_total "):
            return float(line.split()[1])
    return 0.0


@pytest.mark.integration
def test_serve_lab_runs_the_loop_and_prints_a_working_admin_token_once(
        tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/lab.db"
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    with _serving(db, first_log) as url:
        ready = httpx.get(url + "/readyz")
        assert ready.status_code == 200 and ready.json()["checks"]["loop"] == "ok"
        tokens = [w for w in first_log.read_text().split() if w.startswith("hot_")]
        assert len(tokens) == 1, first_log.read_text()
        auth = {"Authorization": f"Bearer {tokens[0]}"}
        assert httpx.get(url + "/api/v1/tokens", headers=auth).json()[0]["role"] == "admin"
        assert httpx.get(url + "/api/v1/incidents").status_code == 401
        before = _ticks(url)
        time.sleep(0.5)
        assert _ticks(url) > before  # the loop runs in the background
        assert httpx.get(url + "/ui/incidents").status_code == 303  # to the sign-in form
    # Restarted on the same database: the token still works and no new one is printed.
    with _serving(db, second_log) as url:
        assert httpx.get(url + "/api/v1/tokens", headers=auth).status_code == 200
        assert "hot_" not in second_log.read_text()
