"""A real Alertmanager delivers firing and then resolved alerts to our webhook receiver.

Timeline: t0 post an alert to Alertmanager's API v2; within group_wait (1 s) the webhook
delivers it firing; then post it again with endsAt in the past; within group_interval
(1 s) the webhook delivers it resolved.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from healops.api.ingest import create_ingest_router
from healops.clock import SystemClock
from healops.domain.signals import Alert
from healops.observe.buffer import BufferSource

from .conftest import Processes, ServerThread, Workdir, free_port, poll_until, require_binary

pytestmark = pytest.mark.integration

CONFIG = """\
global:
  resolve_timeout: 5s
route:
  receiver: healops
  group_by: ['alertname']
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: healops
    webhook_configs:
      - url: {url}/api/v1/alerts/alertmanager
        send_resolved: true
"""


def iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def test_firing_then_resolved_arrive_as_alert_signals(
    workdir: Workdir, processes: Processes
) -> None:
    binary = require_binary("prometheus-alertmanager", "alertmanager")
    received = BufferSource()
    registry = CollectorRegistry()
    app = FastAPI()
    app.include_router(create_ingest_router(received.put, registry=registry, clock=SystemClock()))
    with ServerThread(app) as receiver:
        port = free_port()
        config = workdir.write("alertmanager.yml", CONFIG.format(url=receiver.url))
        (workdir.path / "data").mkdir()
        processes.start(
            [
                binary,
                f"--config.file={config}",
                f"--storage.path={workdir.path / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=",  # no gossip port: a single, private instance
                "--log.level=warn",
            ],
            port=port,
            name="alertmanager",
        )
        api = f"http://127.0.0.1:{port}/api/v2/alerts"
        start = datetime.now(UTC)
        labels = {"alertname": "HealopsTestDown", "service": "checkout", "severity": "page"}
        alert = {
            "labels": labels,
            "annotations": {"summary": "checkout is down"},
            "startsAt": iso(start),
            "endsAt": iso(start + timedelta(hours=1)),
            "generatorURL": "http://healops.test/",
        }
        got: list[Alert] = []

        def arrived(status: str) -> bool:
            got.extend(s for s in received(now=0.0) if isinstance(s, Alert))
            return any(a.status == status for a in got)

        with httpx.Client(timeout=5.0) as client:
            client.post(api, json=[alert]).raise_for_status()
            poll_until(lambda: arrived("firing"), timeout=20, what="the firing notification")
            firing = next(a for a in got if a.status == "firing")
            assert firing.name == "HealopsTestDown" and firing.source == "alertmanager"
            assert firing.label("service") == "checkout" and firing.ends_at is None
            assert dict(firing.annotations) == {"summary": "checkout is down"}
            assert abs(firing.starts_at - start.timestamp()) < 1.0
            assert firing.fingerprint

            ended = datetime.now(UTC)
            client.post(api, json=[{**alert, "endsAt": iso(ended)}]).raise_for_status()
            poll_until(lambda: arrived("resolved"), timeout=20, what="the resolved notification")

        resolved = next(a for a in got if a.status == "resolved")
        assert resolved.fingerprint == firing.fingerprint
        assert resolved.ends_at is not None and abs(resolved.ends_at - ended.timestamp()) < 1.0
        rejected = registry.get_sample_value(
            "healops_ingest_rejected_total",
            {"endpoint": "alertmanager", "reason": "invalid_payload"},
        )
        assert rejected is None, processes.log("alertmanager")
