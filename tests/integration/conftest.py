"""Helpers for integration tests that start real processes on loopback.

A missing binary skips the test with the reason, unless ``CI`` is set: then it fails, so a
CI machine without Prometheus or Alertmanager cannot pass by skipping everything.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest
import uvicorn
from fastapi import FastAPI


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for_port(
    port: int,
    *,
    timeout: float = 20.0,
    proc: subprocess.Popen[bytes] | None = None,
    log: Path | None = None,
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            output = log.read_text(errors="replace")[-2000:] if log else ""
            pytest.fail(f"process exited with {proc.returncode} before listening:\n{output}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"nothing listened on 127.0.0.1:{port} within {timeout} s")


def require_binary(*names: str) -> str:
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    reason = f"none of {', '.join(names)} is on PATH (Debian: apt install {names[0]})"
    if os.environ.get("CI"):
        pytest.fail(f"CI is set and {reason}")
    pytest.skip(reason)


@dataclass
class Workdir:
    path: Path

    def write(self, name: str, text: str) -> Path:
        target = self.path / name
        target.write_text(text)
        return target


@pytest.fixture
def workdir() -> Iterator[Workdir]:
    """A temporary directory removed afterwards, whatever happened."""
    path = Path(tempfile.mkdtemp(prefix="healops-it-"))
    try:
        yield Workdir(path)
    finally:
        shutil.rmtree(path, ignore_errors=True)


class Processes:
    """Starts processes with their output in a log file; stops them all at teardown."""

    def __init__(self, logdir: Path) -> None:
        self.logdir = logdir
        self.running: list[tuple[subprocess.Popen[bytes], IO[bytes]]] = []

    def start(self, args: Sequence[str], *, port: int, name: str) -> subprocess.Popen[bytes]:
        log_path = self.logdir / f"{name}.log"
        log = log_path.open("wb")
        proc = subprocess.Popen(
            list(args),
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.logdir,
            start_new_session=True,
        )
        self.running.append((proc, log))
        wait_for_port(port, proc=proc, log=log_path)
        return proc

    def log(self, name: str) -> str:
        return (self.logdir / f"{name}.log").read_text(errors="replace")

    def stop_all(self) -> None:
        for proc, log in reversed(self.running):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)
            log.close()
        self.running.clear()


@pytest.fixture
def processes(workdir: Workdir) -> Iterator[Processes]:
    procs = Processes(workdir.path)
    try:
        yield procs
    finally:
        procs.stop_all()


class ServerThread:
    """A uvicorn server in a thread, on a free loopback port."""

    def __init__(self, app: FastAPI) -> None:
        self.port = free_port()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                pytest.fail("the uvicorn test server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def poll_until(
    check: Callable[[], object], *, timeout: float, interval: float = 0.25, what: str
) -> None:
    """Call ``check()`` until it returns true or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")
