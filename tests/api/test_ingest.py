from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from healops.api.ingest import SIGNATURE_HEADER, create_ingest_router, sign
from healops.clock import SimClock
from healops.domain.signals import Alert, ChangeEvent, LogEvent, MetricBatch, Sample, Signal
from healops.observe.buffer import BufferSource
from healops.observe.logs import LogPipeline

NOW = 1767225600.0
AM = {
    "version": "4",
    "groupKey": "g",
    "truncatedAlerts": 0,
    "status": "firing",
    "receiver": "healops",
    "groupLabels": {},
    "commonLabels": {},
    "commonAnnotations": {},
    "externalURL": "http://am",
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "Down", "service": "api"},
            "annotations": {},
            "startsAt": "2026-01-01T00:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "",
            "fingerprint": "f1",
        }
    ],
}


class Client:
    """A synchronous face over httpx's ASGI transport: the app runs in-process."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def request(self, method: str, url: str, **kw: Any) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
                return await c.request(method, url, **kw)

        return asyncio.run(go())

    def post(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("POST", url, **kw)

    def get(self, url: str) -> httpx.Response:
        return self.request("GET", url)


class Harness:
    def __init__(self, **kw: Any) -> None:
        self.buffer = BufferSource()
        self.registry = CollectorRegistry()
        app = FastAPI()
        app.include_router(
            create_ingest_router(self.buffer.put, registry=self.registry, clock=SimClock(NOW), **kw)
        )
        self.client = Client(app)

    def signals(self) -> list[Signal]:
        return self.buffer(now=NOW)

    def rejected(self, endpoint: str, reason: str) -> float:
        value = self.registry.get_sample_value(
            "healops_ingest_rejected_total", {"endpoint": endpoint, "reason": reason}
        )
        return value or 0.0


@pytest.fixture
def h() -> Harness:
    return Harness()


def test_alertmanager_webhook_is_accepted(h: Harness) -> None:
    r = h.client.post("/api/v1/alerts/alertmanager", json=AM)
    assert r.status_code == 202 and r.json() == {"accepted": 1}
    (alert,) = h.signals()
    assert isinstance(alert, Alert) and alert.name == "Down" and alert.source == "alertmanager"
    assert (
        h.registry.get_sample_value("healops_ingest_signals_total", {"endpoint": "alertmanager"})
        == 1.0
    )


def test_events_get_now_from_the_injected_clock(h: Harness) -> None:
    body = {"events": [{"type": "change", "kind": "deploy", "service": "api", "version": "2"}]}
    assert h.client.post("/api/v1/events", json=body).status_code == 202
    (event,) = h.signals()
    assert isinstance(event, ChangeEvent) and event.ts == NOW and event.version == "2"


def test_exposition_text_becomes_a_batch(h: Harness) -> None:
    text = '# TYPE x counter\nx{a="1"} 3\nx{a="2"} 4 1767225500000\n'
    r = h.client.post("/api/v1/samples", content=text, headers={"Content-Type": "text/plain"})
    assert r.status_code == 202
    batch, sample = h.signals()
    assert isinstance(batch, MetricBatch) and batch.ts == NOW and list(batch.values) == [3.0]
    assert isinstance(sample, Sample) and sample.ts == 1767225500.0


def test_json_samples(h: Harness) -> None:
    body = {
        "samples": [
            {"name": "cpu", "labels": {"service": "api"}, "value": 0.5},
            {"name": "cpu", "labels": {"service": "db"}, "value": 0.25, "ts": 100},
        ]
    }
    assert h.client.post("/api/v1/samples", json=body).status_code == 202
    batch, sample = h.signals()
    assert isinstance(batch, MetricBatch) and batch.keys[0].service == "api"
    assert isinstance(sample, Sample) and sample.ts == 100.0


def test_logs_as_json_and_as_text() -> None:
    h = Harness(log_pipeline=LogPipeline(window=60.0))
    body = {"service": "api", "lines": ["ERROR disk full on /dev/sda1", {"message": "hello 1"}]}
    assert h.client.post("/api/v1/logs", json=body).status_code == 202
    r = h.client.post(
        "/api/v1/logs?service=db&instance=db-1",
        content="started\n\nWARN slow query 250 ms\n",
        headers={"Content-Type": "text/plain; charset=utf-8"},
    )
    assert r.status_code == 202 and r.json() == {"accepted": 2}
    events = [s for s in h.signals() if isinstance(s, LogEvent)]
    assert [(e.service, e.level) for e in events] == [
        ("api", "error"),
        ("api", "info"),
        ("db", "info"),
        ("db", "warning"),
    ]
    assert events[0].template and events[3].instance == "db-1"


def problems(r: Any) -> dict[str, dict[str, str]]:
    return {p["loc"]: p for p in r.json().get("problems", [])}


@pytest.mark.parametrize(
    ("path", "content", "ctype", "status", "reason", "needle"),
    [
        (
            "/api/v1/events",
            b"{not json",
            "application/json",
            400,
            "invalid_json",
            "line 1 column 2",
        ),
        ("/api/v1/events", b'{"events": NaN}', "application/json", 400, "invalid_json", "NaN"),
        ("/api/v1/events", b"\xff\xfe", "application/json", 400, "invalid_encoding", "UTF-8"),
        ("/api/v1/events", b"[]", "text/xml", 415, "unsupported_media_type", "application/json"),
        ("/api/v1/events", b"[" * 100000, "application/json", 400, "invalid_json", "JSON"),
        ("/api/v1/samples", b"x{a=1} 2\n", "text/plain", 400, "invalid_exposition", "line 1"),
        ("/api/v1/samples", b"x 1", "image/png", 415, "unsupported_media_type", "text/plain"),
        ("/api/v1/logs", b"hello", "text/plain", 400, "invalid_payload", "?service="),
        ("/api/v1/logs", b"hello", "text/csv", 415, "unsupported_media_type", "text/plain"),
        ("/api/v1/alerts/alertmanager", b"[]", "", 422, "invalid_payload", "valid dictionary"),
    ],
)
def test_bad_bodies_get_a_clear_4xx(
    h: Harness, path: str, content: bytes, ctype: str, status: int, reason: str, needle: str
) -> None:
    headers = {"Content-Type": ctype} if ctype else {}
    r = h.client.post(path, content=content, headers=headers)
    assert r.status_code == status, r.text
    assert r.json()["error"] == reason and needle in r.json()["message"]
    assert h.rejected(path.rsplit("/", 1)[-1], reason) == 1.0
    assert h.signals() == []


@pytest.mark.parametrize(
    ("path", "body", "loc", "needle"),
    [
        (
            "/api/v1/events",
            {"events": [{"type": "alert", "name": "x", "sev": 1}]},
            "events[0].sev",
            "remove it",
        ),
        (
            "/api/v1/events",
            {"events": [{"type": "change", "kind": "deploy", "service": 3}]},
            "events[0].service",
            "send a string",
        ),
        (
            "/api/v1/samples",
            {"samples": [{"name": "9x", "value": 1}]},
            "samples[0].name",
            "must match",
        ),
        (
            "/api/v1/samples",
            {"samples": [{"name": "x", "value": "high"}]},
            "samples[0].value",
            "send a number",
        ),
        (
            "/api/v1/samples",
            {"samples": [{"name": "x", "labels": {"a-b": "1"}, "value": 1}]},
            "samples[0].labels",
            "must match",
        ),
        (
            "/api/v1/samples",
            {"samples": [{"name": "x", "value": 1}, {"name": "x", "value": 2}]},
            "samples[1]",
            "duplicate series",
        ),
        (
            "/api/v1/logs",
            {"service": "a", "lines": [{"msg": "x"}]},
            "lines[0].msg",
            "allowed fields: level, message, ts",
        ),
        ("/api/v1/alerts/alertmanager", {**AM, "version": "3"}, "version", "'4'"),
    ],
)
def test_wrong_shapes_name_the_field_and_the_fix(
    h: Harness, path: str, body: Any, loc: str, needle: str
) -> None:
    r = h.client.post(path, json=body)
    assert r.status_code == 422, r.text
    found = problems(r)
    assert loc in found, found
    assert needle in found[loc]["msg"] + found[loc]["fix"]
    assert h.signals() == []


def test_nothing_is_stored_when_one_item_is_bad(h: Harness) -> None:
    good = {"type": "change", "kind": "deploy", "service": "api"}
    r = h.client.post("/api/v1/events", json={"events": [good, good, {**good, "kind": "?"}]})
    assert r.status_code == 422 and "events[2].kind" in problems(r)
    assert h.signals() == []


def test_oversized_bodies_get_413_whether_declared_or_streamed() -> None:
    h = Harness(max_body_bytes=100)
    r = h.client.post(
        "/api/v1/events", content=b" " * 101, headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 413 and "limit of 100 bytes" in r.json()["message"]

    async def chunks() -> AsyncIterator[bytes]:
        yield b"[" * 60
        yield b"]" * 60

    r = h.client.post(
        "/api/v1/events", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 413
    assert h.rejected("events", "too_large") == 2.0


class TestSignatures:
    secret = "s3cret"

    def post(self, h: Harness, body: bytes, signature: str | None) -> Any:
        headers = {"Content-Type": "application/json"}
        if signature is not None:
            headers[SIGNATURE_HEADER] = signature
        return h.client.post("/api/v1/alerts/alertmanager", content=body, headers=headers)

    def test_a_correct_signature_is_accepted(self) -> None:
        h = Harness(secret=self.secret)
        body = json.dumps(AM).encode()
        assert self.post(h, body, sign(self.secret, body)).status_code == 202

    @pytest.mark.parametrize(
        ("signature", "reason"),
        [
            (None, "missing_signature"),
            ("sha256=00", "bad_signature"),
            ("deadbeef", "bad_signature"),
        ],
    )
    def test_missing_or_wrong_signatures_are_refused(
        self, signature: str | None, reason: str
    ) -> None:
        h = Harness(secret=self.secret)
        r = self.post(h, json.dumps(AM).encode(), signature)
        assert r.status_code == 401 and r.json()["error"] == reason
        assert h.rejected("alertmanager", reason) == 1.0 and h.signals() == []

    def test_a_signature_of_other_bytes_is_refused(self) -> None:
        h = Harness(secret=self.secret)
        body = json.dumps(AM).encode()
        assert self.post(h, body, sign(self.secret, body + b" ")).status_code == 401

    def test_an_empty_secret_is_a_configuration_error(self) -> None:
        with pytest.raises(ValueError, match="empty webhook secret"):
            Harness(secret="")


def test_a_failing_sink_gives_503_not_500() -> None:
    def sink(signal: Signal) -> None:
        raise RuntimeError("database is locked")

    registry = CollectorRegistry()
    app = FastAPI()
    app.include_router(create_ingest_router(sink, registry=registry, clock=SimClock(NOW)))
    r = Client(app).post("/api/v1/alerts/alertmanager", json=AM)
    assert r.status_code == 503 and "database is locked" in r.json()["message"]


def test_only_post_is_routed(h: Harness) -> None:
    assert h.client.get("/api/v1/events").status_code == 405


def test_openapi_lists_the_endpoints(h: Harness) -> None:
    paths = h.client.get("/openapi.json").json()["paths"]
    assert set(paths) >= {
        "/api/v1/alerts/alertmanager",
        "/api/v1/events",
        "/api/v1/logs",
        "/api/v1/samples",
    }
