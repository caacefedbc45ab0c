"""A real Prometheus and Alertmanager beside the lab, when they are installed.

Prometheus scrapes every replica (file-based discovery, rewritten when replicas change)
every second and evaluates a few alert rules; Alertmanager sends their notifications to a
webhook receiver in the driver, parsed by ``healops.observe.alertmanager``. The scoreboard
records when the first alert about a fault's service arrived, beside healops' own
detection; the engine itself works from its direct scrapes.

>>> "LabHighErrorRatio" in ALERT_RULES and "for: 3s" in ALERT_RULES
True
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from healops.domain.signals import Alert
from healops.observe.alertmanager import parse_alertmanager

__all__ = ["ALERT_RULES", "AlertReceiver", "Monitoring", "find_binary"]

ALERT_RULES = """\
groups:
  - name: healops-lab
    interval: 1s
    rules:
      - alert: LabInstanceDown
        expr: up == 0
        for: 3s
        labels: {severity: page}
      - alert: LabHighErrorRatio
        expr: >
          sum by (service, instance) (rate(http_requests_total{code=~"5.."}[10s]))
          / sum by (service, instance) (rate(http_requests_total[10s])) > 0.2
        for: 3s
        labels: {severity: page}
      - alert: LabFailedLoginBurst
        expr: sum by (service, source) (rate(auth_failed_logins_total[10s])) > 3
        for: 3s
        labels: {severity: security}
      - alert: LabMemoryHigh
        expr: process_resident_memory_bytes / process_memory_limit_bytes > 0.6
        for: 2s
        labels: {severity: ticket}
"""


def find_binary(*names: str) -> str | None:
    for name in names:
        found = shutil.which(name) or next(
            (str(p) for p in (Path("/usr/bin", name), Path("/usr/sbin", name)) if p.exists()),
            None)
        if found:
            return found
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class AlertReceiver:
    """Alertmanager's webhook receiver: a small HTTP server thread on loopback."""

    def __init__(self) -> None:
        self.alerts: list[Alert] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

            def do_POST(self) -> None:  # noqa: N802
                n = int(self.headers.get("Content-Length") or 0)
                try:
                    alerts = parse_alertmanager(json.loads(self.rfile.read(min(n, 1 << 20))))
                except ValueError:
                    self.send_response(400)
                    self.end_headers()
                    return
                with receiver._lock:
                    receiver.alerts.extend(alerts)
                self.send_response(200)
                self.end_headers()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def received(self) -> list[Alert]:
        with self._lock:
            return list(self.alerts)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class Monitoring:
    """Starts whichever of Prometheus and Alertmanager is installed; ``left_out`` says the
    rest and how to add it."""

    def __init__(self, directory: Path, *, ca_file: str) -> None:
        self.dir = directory
        self.ca_file = ca_file
        self.prometheus = find_binary("prometheus")
        self.alertmanager = find_binary("prometheus-alertmanager", "alertmanager")
        self.procs: list[subprocess.Popen[bytes]] = []
        self.receiver: AlertReceiver | None = None
        self.prometheus_url = ""
        self._targets = directory / "targets.json"
        self._last_targets = ""

    @property
    def left_out(self) -> list[str]:
        out = []
        if self.prometheus is None:
            out.append("Prometheus: healops scrapes the services itself; install it "
                       "(apt-get install prometheus) to also graph and alert on the lab")
        if self.alertmanager is None:
            out.append("Alertmanager: no alert notifications to compare with healops' own "
                       "detection (apt-get install prometheus-alertmanager)")
        return out

    def start(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.write_targets([])
        am_port = 0
        if self.alertmanager is not None:
            self.receiver = AlertReceiver()
            am_port = _free_port()
            cfg = self.dir / "alertmanager.yml"
            cfg.write_text(
                "route:\n  receiver: healops\n  group_by: ['alertname', 'service', 'instance']\n"
                "  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\n"
                "receivers:\n  - name: healops\n    webhook_configs:\n"
                f"      - url: {self.receiver.url}\n        send_resolved: true\n")
            self._spawn([self.alertmanager, f"--config.file={cfg}",
                         f"--storage.path={self.dir / 'am-data'}",
                         f"--web.listen-address=127.0.0.1:{am_port}",
                         "--cluster.listen-address=", "--log.level=warn"], "alertmanager", am_port)
        if self.prometheus is not None:
            port = _free_port()
            rules = self.dir / "rules.yml"
            rules.write_text(ALERT_RULES)
            alerting = (f"alerting:\n  alertmanagers:\n    - static_configs:\n"
                        f"        - targets: ['127.0.0.1:{am_port}']\n") if am_port else ""
            cfg = self.dir / "prometheus.yml"
            cfg.write_text(
                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                f"rule_files: ['{rules}']\n{alerting}"
                "scrape_configs:\n"
                "  - job_name: lab\n    scrape_timeout: 1s\n"
                f"    file_sd_configs: [{{files: ['{self._targets}'], refresh_interval: 1s}}]\n"
                f"    tls_config: {{ca_file: '{self.ca_file}'}}\n")
            self._spawn([self.prometheus, f"--config.file={cfg}",
                         f"--storage.tsdb.path={self.dir / 'tsdb'}",
                         f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
                        "prometheus", port)
            self.prometheus_url = f"http://127.0.0.1:{port}"

    def write_targets(self, targets: Sequence[tuple[str, str, str]]) -> None:
        """(service, instance, url) of every replica; a change is picked up within 1 s."""
        groups = [{"targets": [url.split("://", 1)[1]],
                   "labels": {"service": s, "instance": i,
                              "__scheme__": url.split("://", 1)[0]}}
                  for s, i, url in targets]
        text = json.dumps(groups)
        if text != self._last_targets:
            tmp = self._targets.with_suffix(".tmp")
            tmp.write_text(text)
            tmp.replace(self._targets)
            self._last_targets = text

    def _spawn(self, argv: list[str], name: str, port: int) -> None:
        with (self.dir / f"{name}.log").open("ab") as log:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append(proc)
        deadline = time.monotonic() + 15.0
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}: "
                                   f"{(self.dir / f'{name}.log').read_text()[-300:]}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{name} did not start listening on {port}")

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self.procs.clear()
        if self.receiver is not None:
            self.receiver.close()
            self.receiver = None
