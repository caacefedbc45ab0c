"""HAProxy in front of the busiest service: its config, and the process that runs it.

Every replica slot up to the service's maximum is declared as a server with a health
check, so a replica added by ``scale_out`` enters the rotation as soon as it answers
``/health``, and a missing one is simply down.

>>> print(haproxy_config(Path("/lab/h.sock"), 8000, "api", [("api-0", 9000), ("api-1", 9001)]))
... # doctest: +ELLIPSIS
global
    stats socket /lab/h.sock mode 600 level admin
...
    server api-0 127.0.0.1:9000 check
    server api-1 127.0.0.1:9001 check
<BLANKLINE>
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from healops.act.haproxy import unix_transport
from healops.lab.live.monitoring import find_binary

__all__ = ["HaproxyProcess", "find_haproxy", "haproxy_config"]


def find_haproxy() -> str | None:
    return find_binary("haproxy")


def haproxy_config(sock: Path, port: int, backend: str,
                   servers: Sequence[tuple[str, int]]) -> str:
    lines = [
        "global",
        f"    stats socket {sock} mode 600 level admin",
        "    maxconn 256",
        "defaults",
        "    mode http",
        "    timeout connect 1s",
        "    timeout client 10s",
        "    timeout server 5s",
        "    retries 1",
        "    option redispatch",
        f"frontend fe_{backend}",
        f"    bind 127.0.0.1:{port}",
        f"    default_backend {backend}",
        f"backend {backend}",
        "    balance roundrobin",
        "    option httpchk GET /health",
        "    default-server inter 500ms fall 2 rise 1",
        *(f"    server {name} 127.0.0.1:{p} check" for name, p in servers),
    ]
    return "\n".join(lines) + "\n"


class HaproxyProcess:
    """Runs ``haproxy -f CONFIG -db`` in its own process group until ``stop()``."""

    def __init__(self, binary: str, directory: Path, port: int, backend: str,
                 servers: Sequence[tuple[str, int]]) -> None:
        self.binary = binary
        self.socket = directory / "haproxy.sock"
        self.config = directory / "haproxy.cfg"
        self.log = directory / "haproxy.log"
        self.port = port
        self.config.write_text(haproxy_config(self.socket, port, backend, servers))
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 10.0) -> None:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen([self.binary, "-f", str(self.config), "-db"],
                                         stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"haproxy exited with {self.proc.returncode}: "
                                   f"{self.log.read_text()[-400:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    if self.socket.exists():
                        return
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("haproxy did not start listening")

    def mark_down(self, backend: str, servers: Sequence[str]) -> None:
        """Start empty slots as down instead of waiting for their checks to fail."""
        send = unix_transport(self.socket)
        for name in servers:
            send(f"set server {backend}/{name} health down", 2.0)

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
