"""Helpers for the executor integration tests: binaries, free ports, processes, backends.

Everything started here is stopped, and every temporary directory removed, on exit.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest


def require_binary(name: str, *extra_dirs: str) -> str:
    """The binary's path; a missing binary fails under CI and skips (with why) elsewhere."""
    found = shutil.which(name, path=os.pathsep.join([os.environ.get("PATH", ""), *extra_dirs]))
    if found is None:
        why = f"{name} is not installed (Debian package needed for this integration test)"
        if os.environ.get("CI"):
            pytest.fail(f"CI is set and {why}")
        pytest.skip(why)
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def short_tmpdir() -> Iterator[Path]:
    """A temporary directory with a short path (unix socket paths are limited to 108 bytes)."""
    d = Path(tempfile.mkdtemp(prefix="healops-it-", dir="/tmp"))
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def wait_until(
    check: Callable[[], bool],
    *,
    timeout_s: float,
    what: str,
    proc: subprocess.Popen[bytes] | None = None,
    log: Path | None = None,
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            text = log.read_text(errors="replace") if log and log.exists() else ""
            raise AssertionError(f"process exited ({proc.returncode}) before {what}:\n{text}")
        with contextlib.suppress(OSError):
            if check():
                return
        time.sleep(0.05)
    text = log.read_text(errors="replace") if log and log.exists() else ""
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}:\n{text}")


@contextlib.contextmanager
def running(argv: Sequence[str], *, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``argv`` in its own process group; kill the whole group and reap it on exit."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield proc
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


@contextlib.contextmanager
def http_backends(names: Sequence[str]) -> Iterator[tuple[dict[str, int], Counter[str]]]:
    """Small HTTP servers on loopback answering their own name; yields ports and hit counts."""
    hits: Counter[str] = Counter()
    servers: list[ThreadingHTTPServer] = []
    threads: list[threading.Thread] = []

    def handler_for(name: str) -> type[BaseHTTPRequestHandler]:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                hits[name] += 1
                body = name.encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler

    try:
        for name in names:
            srv = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(name))
            srv.daemon_threads = True
            servers.append(srv)
            t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05})
            t.start()
            threads.append(t)
        yield {n: s.server_address[1] for n, s in zip(names, servers, strict=True)}, hits
    finally:
        for srv in servers:
            srv.shutdown()
            srv.server_close()
        for t in threads:
            t.join()
