"""The tiny HTTP service every live-lab process runs (``python -m healops.lab.live.services``).

Standard library only, so a replica starts in a few tens of milliseconds and stays small.
Its behaviour comes from two JSON files: the *spec* (name, ports, dependencies, TLS files,
volume) and the *release* (the version's code switches: error ratio, extra latency, crash
after N seconds). A deploy is the supervisor starting the replicas on another release file.

Endpoints: ``GET /work`` (does its own work, then calls each dependency's ``/work``),
``POST /login`` (the auth service), ``GET /health``, ``GET /metrics`` (Prometheus text) and
``POST /admin/fault`` (the lab's fault injector: errors, slow, leak, spam, clear).

>>> _quantile_buckets([(0.05, 0), (0.1, 3), (float("inf"), 4)])
[('0.05', 0), ('0.1', 3), ('+Inf', 4)]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import ssl
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

__all__ = ["BUCKETS", "Service", "main"]

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, float("inf"))
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _quantile_buckets(pairs: list[tuple[float, int]]) -> list[tuple[str, int]]:
    return [("+Inf" if b == float("inf") else repr(b), n) for b, n in pairs]


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * _PAGE
    except OSError:
        return 0


class Service:
    """One replica's state: counters, the histogram, and the faults injected into it."""

    def __init__(self, spec: dict[str, Any], release: dict[str, Any], replica: int) -> None:
        self.spec = spec
        self.release = release
        self.replica = replica
        self.name: str = spec["name"]
        self.instance = f"{self.name}-{replica}"
        self.port: int = int(spec["base_port"]) + replica
        self.started = time.time()
        self.rng = random.Random(hash((self.name, replica, self.started)))
        self.lock = threading.Lock()
        self.requests: dict[str, int] = {}
        self.buckets = [0] * len(BUCKETS)
        self.latency_sum = 0.0
        self.latency_count = 0
        self.failed_logins: dict[str, int] = {}
        self.recent: deque[float] = deque()
        self.faults: dict[str, float] = {}  # kind -> magnitude
        self.leaked: list[bytearray] = []
        logs = Path(spec["volume"]) / self.instance / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        self.logs = logs
        self.access = (logs / "access.log").open("a", buffering=1)
        self.ssl_client: ssl.SSLContext | None = None
        if spec.get("ca"):
            self.ssl_client = ssl.create_default_context(cafile=spec["ca"])

    # ---- behaviour -------------------------------------------------------------------
    def error_ratio(self) -> float:
        return max(float(self.release.get("error_ratio", 0.0)), self.faults.get("errors", 0.0))

    def work(self) -> int:
        delay = float(self.spec.get("work_ms", 5)) + float(self.release.get("extra_latency_ms", 0))
        delay += self.faults.get("slow", 0.0)
        time.sleep(delay / 1000.0 * (0.7 + 0.6 * self.rng.random()))
        if self.rng.random() < self.error_ratio():
            return 500
        for dep in self.spec.get("deps", []):
            if self.call(dep["url"]) != 200:
                return 502
        return 200

    def call(self, url: str) -> int:
        for attempt in range(2):  # one retry: a dependency restarting is not an outage
            try:
                with urllib.request.urlopen(url, timeout=2.0, context=self.ssl_client) as r:
                    return int(r.status)
            except urllib.error.HTTPError as exc:
                return int(exc.code)
            except (OSError, ssl.SSLError):
                if attempt == 0:
                    time.sleep(0.2)
        return 599

    def login(self, body: dict[str, Any]) -> int:
        time.sleep(0.002)
        if body.get("password") == "lab-secret":
            return 200
        source = str(body.get("source", "unknown"))[:40]
        with self.lock:
            self.failed_logins[source] = self.failed_logins.get(source, 0) + 1
        return 401

    def observe(self, code: int, seconds: float, path: str) -> None:
        now = time.time()
        with self.lock:
            key = str(code)
            self.requests[key] = self.requests.get(key, 0) + 1
            for i, b in enumerate(BUCKETS):
                if seconds <= b:
                    self.buckets[i] += 1
            self.latency_sum += seconds
            self.latency_count += 1
            self.recent.append(now)
            while self.recent and self.recent[0] < now - 5.0:
                self.recent.popleft()
        self.access.write(f"{now:.3f} {self.instance} {path} {code} {seconds * 1000:.1f}ms\n")

    def saturation(self) -> float:
        now = time.time()
        with self.lock:
            n = sum(1 for t in self.recent if t >= now - 5.0)
        return n / 5.0 / float(self.spec.get("capacity_rps", 20.0))

    def metrics(self) -> str:
        rss = _rss_bytes()
        limit = int(self.spec.get("memory_limit_bytes", 64 << 20))
        out = [
            "# TYPE http_requests_total counter",
            *(f'http_requests_total{{code="{c}"}} {n}' for c, n in sorted(self.requests.items())),
            "# TYPE http_request_duration_seconds histogram",
        ]
        with self.lock:
            pairs = list(zip(BUCKETS, self.buckets, strict=True))
            total, count = self.latency_sum, self.latency_count
            fails = dict(self.failed_logins)
        for le, n in _quantile_buckets(pairs):
            out.append(f'http_request_duration_seconds_bucket{{le="{le}"}} {n}')
        out += [
            f"http_request_duration_seconds_sum {total}",
            f"http_request_duration_seconds_count {count}",
            "# TYPE saturation_ratio gauge",
            f"saturation_ratio {self.saturation():.4f}",
            "# TYPE process_resident_memory_bytes gauge",
            f"process_resident_memory_bytes {rss}",
            "# TYPE process_memory_limit_bytes gauge",
            f"process_memory_limit_bytes {limit}",
            "# TYPE process_start_time_seconds gauge",
            f"process_start_time_seconds {self.started:.3f}",
            "# TYPE lab_info gauge",
            f'lab_info{{version="{self.release.get("version", "")}",pid="{os.getpid()}"}} 1',
        ]
        if self.spec.get("auth"):
            out.append("# TYPE auth_failed_logins_total counter")
            out += [f'auth_failed_logins_total{{source="{s}"}} {n}'
                    for s, n in sorted(fails.items())]
        return "\n".join(out) + "\n"

    def health(self) -> dict[str, Any]:
        return {"ok": True, "instance": self.instance, "version": self.release.get("version"),
                "pid": os.getpid(), "faults": sorted(self.faults),
                "memory_ratio": _rss_bytes() / int(self.spec.get("memory_limit_bytes", 64 << 20))}

    # ---- faults ----------------------------------------------------------------------
    def inject(self, body: dict[str, Any]) -> None:
        kind = str(body.get("kind", ""))
        if kind == "clear":
            self.faults.clear()
            return
        if kind not in ("errors", "slow", "leak", "spam"):
            raise ValueError(f"unknown fault {kind!r}")
        self.faults[kind] = float(body.get("value", 1.0))
        if kind == "leak":
            threading.Thread(target=self._leak, daemon=True).start()
        if kind == "spam":
            threading.Thread(target=self._spam, args=(int(body.get("bytes", 8 << 20)),),
                             daemon=True).start()

    def _leak(self) -> None:
        limit = int(self.spec.get("memory_limit_bytes", 64 << 20))
        while "leak" in self.faults:
            self.leaked.append(bytearray(b"x" * int(self.faults["leak"] * (1 << 20))))
            if _rss_bytes() >= limit:  # the kernel's OOM killer, as the lab plays it
                os._exit(137)
            time.sleep(1.0)

    def _spam(self, total: int) -> None:
        chunk = b"DEBUG retrying request with full payload dump " * 1024  # ~47 KiB
        written, n = 0, 0
        stamp = int(time.time())
        while written < total and "spam" in self.faults:
            with (self.logs / f"debug-{stamp}-{n}.log").open("ab") as f:
                for _ in range(21):  # ~1 MiB per file, about 4 MiB/s
                    f.write(chunk)
                    written += len(chunk)
            n += 1
            time.sleep(0.25)
        self.faults.pop("spam", None)

    def crash_timer(self) -> None:
        after = self.release.get("crash_after_s")
        if after is not None:
            def die() -> None:
                time.sleep(float(after))
                print(f"{self.instance}: fatal: config key 'pool.size' is missing", flush=True)
                os._exit(3)

            threading.Thread(target=die, daemon=True).start()

    def watch_cert(self, context: ssl.SSLContext, cert: Path, key: Path) -> None:
        """Reload the certificate when its file changes; new handshakes get the new one."""
        last = cert.stat().st_mtime_ns
        while True:
            time.sleep(0.5)
            try:
                now = cert.stat().st_mtime_ns
                if now != last:
                    context.load_cert_chain(cert, key)
                    last = now
            except (OSError, ssl.SSLError):
                continue


def _handler(svc: Service) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass  # the access log is written by Service.observe

        def _send(self, code: int, body: str, ctype: str = "text/plain") -> None:
            data = body.encode()
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> dict[str, Any]:
            n = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(min(n, 65536)) if n else b"{}"
            data = json.loads(raw or b"{}")
            return data if isinstance(data, dict) else {}

        def do_GET(self) -> None:  # noqa: N802
            if self.path == "/metrics":
                self._send(200, svc.metrics(), "text/plain; version=0.0.4")
            elif self.path == "/health":
                self._send(200, json.dumps(svc.health()), "application/json")
            elif self.path.startswith("/work"):
                t0 = time.perf_counter()
                code = svc.work()
                svc.observe(code, time.perf_counter() - t0, "/work")
                self._send(code, "ok\n" if code == 200 else "error\n")
            else:
                self._send(404, "not found\n")

        def do_POST(self) -> None:  # noqa: N802
            try:
                body = self._body()
            except ValueError:
                self._send(400, "bad json\n")
                return
            if self.path == "/login" and svc.spec.get("auth"):
                t0 = time.perf_counter()
                code = svc.login(body)
                svc.observe(code if code != 401 else 200, time.perf_counter() - t0, "/login")
                self._send(code, "welcome\n" if code == 200 else "denied\n")
            elif self.path == "/admin/fault":
                try:
                    svc.inject(body)
                except ValueError as exc:
                    self._send(400, f"{exc}\n")
                    return
                self._send(200, json.dumps(svc.health()), "application/json")
            else:
                self._send(404, "not found\n")

    return Handler


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="A live-lab service replica.")
    p.add_argument("--spec", type=Path, required=True)
    p.add_argument("--release", type=Path, required=True)
    p.add_argument("--replica", type=int, default=0)
    args = p.parse_args(argv)
    spec = json.loads(args.spec.read_text())
    release = json.loads(args.release.read_text())
    svc = Service(spec, release, args.replica)
    server = ThreadingHTTPServer(("127.0.0.1", svc.port), _handler(svc))
    server.daemon_threads = True
    tls = spec.get("tls")
    if tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        cert, key = Path(tls["cert"]), Path(tls["key"])
        ctx.load_cert_chain(cert, key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=svc.watch_cert, args=(ctx, cert, key), daemon=True).start()
    svc.crash_timer()
    print(f"{svc.instance} {release.get('version')} listening on {svc.port} (pid {os.getpid()})",
          flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
