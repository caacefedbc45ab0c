"""The live estate: five small HTTP services as real processes on loopback.

``api`` (two replicas behind HAProxy when it is installed) calls ``auth`` (TLS, with a
certificate from the lab CA), ``catalog`` and ``orders``, which both call ``db``. Every
replica logs to its own directory on the lab volume. Each service has releases (versions of
its config: ``v1`` and ``v2`` are good, ``v3-crash`` and ``v3-errors`` are not); a deploy
switches the supervisor to another release file.

Everything lives under one lab directory; ``close()`` stops every process and removes it.
"""

from __future__ import annotations

import json
import shutil
import socket
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from healops.act.local import LocalSupervisor, ServiceSpec
from healops.config.models import ServiceConfig, TopologyConfig
from healops.lab.live.ca import DAY, LabCA
from healops.lab.live.haproxy import HaproxyProcess, find_haproxy

__all__ = ["RELEASES", "SERVICES", "LiveEstate", "LiveService", "free_port_block"]


@dataclass(frozen=True, slots=True)
class LiveService:
    name: str
    depends_on: tuple[str, ...] = ()
    replicas: int = 1
    max_replicas: int = 1
    work_ms: float = 5.0
    capacity_rps: float = 20.0
    tls: bool = False
    auth: bool = False
    tier: int = 2
    stateful: bool = False


SERVICES: tuple[LiveService, ...] = (
    LiveService("api", ("auth", "catalog", "orders"), replicas=2, max_replicas=4, work_ms=8,
                capacity_rps=6.0, tier=1),
    LiveService("auth", (), tls=True, auth=True, work_ms=3, capacity_rps=40.0, tier=1),
    LiveService("catalog", ("db",), work_ms=6, capacity_rps=30.0),
    LiveService("orders", ("db",), work_ms=10, capacity_rps=30.0, tier=1),
    LiveService("db", (), work_ms=3, capacity_rps=60.0, tier=1, stateful=True),
)

# A release is a version of a service's config; the good ones first.
RELEASES: dict[str, dict[str, object]] = {
    "v1": {},
    "v2": {"extra_latency_ms": 1},
    "v3-crash": {"crash_after_s": 1.5},
    "v3-errors": {"error_ratio": 0.5},
}
GOOD_RELEASES = frozenset({"v1", "v2"})
VOLUME_QUOTA_BYTES = 8 << 20  # each replica's share of the lab volume
MEMORY_LIMIT_BYTES = 96 << 20


def free_port_block(n: int, *, tries: int = 50) -> int:
    """A base port such that base..base+n-1 are all free on loopback right now."""
    for _ in range(tries):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = int(s.getsockname()[1])
        if base + n > 65000:
            continue
        socks = []
        try:
            for p in range(base, base + n):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", p))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError(f"no block of {n} free ports on loopback")


class LiveEstate:
    """Starts and stops the estate. ``haproxy=None`` uses HAProxy when it is installed."""

    def __init__(self, root: Path | None = None, *, haproxy: bool | None = None,
                 services: tuple[LiveService, ...] = SERVICES) -> None:
        self._own_root = root is None
        base = Path(tempfile.mkdtemp(prefix="healops-lab-")) if root is None else root
        base.mkdir(parents=True, exist_ok=True)
        self.dir = Path(tempfile.mkdtemp(prefix="lab-", dir=base)) if root is not None else base
        self._root = base
        self.services = {s.name: s for s in services}
        self.volume = self.dir / "volume"
        self.certs = self.dir / "certs"
        self.inbox = self.dir / "inbox"
        binary = find_haproxy() if haproxy in (None, True) else None
        if haproxy is True and binary is None:
            raise RuntimeError("haproxy was asked for but is not installed")
        self.haproxy_binary = binary
        self.haproxy: HaproxyProcess | None = None
        total = sum(s.max_replicas for s in services) + 1
        self.base_port = free_port_block(total)
        self.ports: dict[str, int] = {}
        p = self.base_port
        for s in services:
            self.ports[s.name] = p
            p += s.max_replicas
        self.frontend_port = p
        self.ca: LabCA | None = None
        self.supervisor: LocalSupervisor | None = None

    # ---- addresses -------------------------------------------------------------------
    def url(self, service: str, replica: int = 0) -> str:
        scheme = "https" if self.services[service].tls else "http"
        return f"{scheme}://127.0.0.1:{self.ports[service] + replica}"

    def entry_url(self) -> str:
        """Where clients send traffic: HAProxy when it runs, else the first api replica."""
        if self.haproxy is not None:
            return f"http://127.0.0.1:{self.frontend_port}"
        return self.url("api")

    def replicas(self, service: str) -> int:
        assert self.supervisor is not None
        return self.supervisor.status(service).replicas

    def order(self) -> list[str]:
        """Services with their dependencies first, the way symptoms spread upstream."""
        done: list[str] = []

        def visit(name: str) -> None:
            if name not in done:
                for dep in self.services[name].depends_on:
                    visit(dep)
                done.append(name)

        for name in self.services:
            visit(name)
        return done

    def instances(self) -> list[tuple[str, str, int]]:
        """(service, instance, replica) for every wanted replica, dependencies first."""
        return [(s, f"{s}-{i}", i) for s in self.order() for i in range(self.replicas(s))]

    def topology(self) -> TopologyConfig:
        return TopologyConfig(services=[
            ServiceConfig(name=s.name, depends_on=list(s.depends_on), tier=s.tier,
                          replicas=s.replicas, stateful=s.stateful)
            for s in self.services.values()])

    # ---- lifecycle -------------------------------------------------------------------
    def start(self, *, now: float, timeout_s: float = 20.0) -> None:
        for d in (self.volume, self.certs, self.inbox, self.dir / "specs", self.dir / "proc"):
            d.mkdir(parents=True, exist_ok=True)
        self.ca = LabCA.create(self.certs, now=now)
        specs: list[ServiceSpec] = []
        for s in self.services.values():
            specs.append(self._write_spec(s, now))
        self.supervisor = LocalSupervisor(specs, log_dir=self.dir / "proc", settle_s=0.3)
        for s in self.services.values():
            self.supervisor.start(s.name, timeout_s=timeout_s)
        self.wait_healthy(timeout_s)
        if self.haproxy_binary is not None:
            api = self.services["api"]
            servers = [(f"api-{i}", self.ports["api"] + i) for i in range(api.max_replicas)]
            self.haproxy = HaproxyProcess(self.haproxy_binary, self.dir, self.frontend_port,
                                          "api", servers)
            self.haproxy.start()
            self.haproxy.mark_down("api", [f"api-{i}" for i in range(api.replicas,
                                                                       api.max_replicas)])

    def _write_spec(self, s: LiveService, now: float) -> ServiceSpec:
        spec: dict[str, object] = {
            "name": s.name, "base_port": self.ports[s.name], "work_ms": s.work_ms,
            "capacity_rps": s.capacity_rps, "auth": s.auth, "volume": str(self.volume),
            "memory_limit_bytes": MEMORY_LIMIT_BYTES,
            "deps": [{"name": d, "url": self.url(d) + "/work"} for d in s.depends_on],
        }
        assert self.ca is not None
        if any(self.services[d].tls for d in s.depends_on):
            spec["ca"] = str(self.ca.path)
        if s.tls:
            leaf = self.ca.issue(s.name, self.certs, valid_s=90 * DAY, now=now)
            spec["tls"] = {"cert": str(leaf.cert), "key": str(leaf.key)}
        spec_path = self.dir / "specs" / f"{s.name}.json"
        spec_path.write_text(json.dumps(spec, indent=1))
        versions: dict[str, list[str]] = {}
        for version, release in RELEASES.items():
            rel = self.dir / "specs" / f"{s.name}-{version}.json"
            rel.write_text(json.dumps({"version": version, **release}))
            versions[version] = [sys.executable, "-m", "healops.lab.live.services",
                                 "--spec", str(spec_path), "--release", str(rel),
                                 "--replica", "{replica}"]
        return ServiceSpec(name=s.name, versions=versions, version="v1", replicas=s.replicas)

    def health(self, service: str, replica: int, timeout: float = 1.0) -> dict[str, object]:
        """The replica's own /health answer (ground truth for the scoreboard)."""
        ctx = None
        if self.services[service].tls and self.ca is not None:
            import ssl

            ctx = ssl.create_default_context(cafile=str(self.ca.path))
        with urllib.request.urlopen(self.url(service, replica) + "/health", timeout=timeout,
                                    context=ctx) as r:
            data = json.loads(r.read())
        return data if isinstance(data, dict) else {}

    def wait_healthy(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        pending = [(s, i) for s in self.services for i in range(self.replicas(s))]
        while pending and time.monotonic() < deadline:
            still = []
            for s, i in pending:
                try:
                    self.health(s, i, timeout=0.5)
                except OSError:
                    still.append((s, i))
            pending = still
            if pending:
                time.sleep(0.1)
        if pending:
            raise RuntimeError(f"replicas did not become healthy: {pending}")

    def close(self) -> None:
        if self.haproxy is not None:
            self.haproxy.stop()
            self.haproxy = None
        if self.supervisor is not None:
            self.supervisor.close()
            self.supervisor = None
        shutil.rmtree(self.dir, ignore_errors=True)
        if self._own_root:
            shutil.rmtree(self._root, ignore_errors=True)

    def __enter__(self) -> LiveEstate:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
