"""HTTP ingestion: webhooks and pushed telemetry become signals handed to a sink.

``create_ingest_router(sink, registry=..., clock=...)`` returns a FastAPI ``APIRouter`` with
four POST endpoints:

- ``/api/v1/alerts/alertmanager``: an Alertmanager webhook (payload version 4)
- ``/api/v1/events``: generic alerts and change events (``healops.observe.events``)
- ``/api/v1/logs``: log lines, as JSON or as ``text/plain`` with ``?service=``
- ``/api/v1/samples``: Prometheus exposition text (``text/plain``) or JSON samples

The whole body is read (up to ``max_body_bytes``, else 413), its signature checked when a
secret is configured (``X-Healops-Signature: sha256=<hex HMAC-SHA256 of the body>``), and
the whole payload validated before the sink sees a single signal: a bad payload stores
nothing. Every rejection is a 4xx with a JSON body naming the problem (field path and fix)
and is counted in ``healops_ingest_rejected_total{endpoint, reason}``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry, Counter
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from starlette.requests import ClientDisconnect

from healops.clock import Clock
from healops.domain.signals import LogEvent, MetricBatch, Sample, SeriesKey, Signal
from healops.observe.alertmanager import parse_alertmanager
from healops.observe.events import parse_events
from healops.observe.exposition import ExpositionError, parse_exposition
from healops.observe.logs import LogPipeline, detect_level, parse_log_lines
from healops.observe.payload import PayloadError, Problem

__all__ = ["SIGNATURE_HEADER", "SamplesPayload", "create_ingest_router", "sign"]

SIGNATURE_HEADER = "X-Healops-Signature"
MAX_SAMPLES = 50_000

Sink = Callable[[Signal], None]
_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


def sign(secret: str, body: bytes) -> str:
    """The signature header value for a body.

    >>> sign("s3cret", b"{}")
    'sha256=adbde1ce40c89c14215687d5d762a47df6dfaefcfad61e2e86718ffc8498571b'
    """
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class _Rejected(Exception):
    status: int
    reason: str
    message: str
    problems: Sequence[Problem] = ()


class SampleIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # The patterns are also in the JSON Schema (the validators give the friendlier message).
    name: str = Field(json_schema_extra={"pattern": "^[a-zA-Z_:][a-zA-Z0-9_:]*$"})
    labels: dict[str, str] = Field(
        default_factory=dict,
        json_schema_extra={"propertyNames": {"pattern": "^[a-zA-Z_][a-zA-Z0-9_]*$"}})
    value: float
    ts: AwareDatetime | Annotated[float, Field(allow_inf_nan=False)] | None = None

    @field_validator("name")
    @classmethod
    def _metric_name(cls, name: str) -> str:
        if not _METRIC_NAME.fullmatch(name):
            raise ValueError("metric name must match [a-zA-Z_:][a-zA-Z0-9_:]*")
        return name

    @field_validator("labels")
    @classmethod
    def _label_names(cls, labels: dict[str, str]) -> dict[str, str]:
        bad = sorted(k for k in labels if not _LABEL_NAME.fullmatch(k))
        if bad:
            raise ValueError(f"label names {bad} must match [a-zA-Z_][a-zA-Z0-9_]*")
        return labels

    def epoch(self) -> float | None:
        if self.ts is None:
            return None
        if isinstance(self.ts, float | int):
            return float(self.ts)
        return self.ts.timestamp()


class SamplesPayload(BaseModel):
    """The JSON body of ``POST /api/v1/samples``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    samples: list[SampleIn] = Field(min_length=1, max_length=MAX_SAMPLES)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON; send a number or a string")


def _decode_json(body: bytes) -> Any:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Rejected(400, "invalid_encoding", f"body is not UTF-8: {exc}") from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise _Rejected(
            400,
            "invalid_json",
            f"body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
        ) from None
    except (ValueError, RecursionError) as exc:
        raise _Rejected(400, "invalid_json", f"body is not valid JSON: {exc}") from None


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def _is_json(media_type: str) -> bool:
    return media_type in ("", "application/json") or media_type.endswith("+json")


def _require_json(request: Request) -> None:
    media = _media_type(request)
    if not _is_json(media):
        raise _Rejected(
            415, "unsupported_media_type", f"send Content-Type: application/json, not {media!r}"
        )


def _text(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Rejected(400, "invalid_encoding", f"body is not UTF-8: {exc}") from None


def _samples_from_json(payload: Any, now: float) -> list[Signal]:
    try:
        parsed = SamplesPayload.model_validate(payload)
    except ValidationError as exc:
        raise PayloadError.from_validation_error(
            exc, what="samples payload", model=SamplesPayload
        ) from None
    keys: list[SeriesKey] = []
    values: list[float] = []
    seen: dict[SeriesKey, int] = {}
    out: list[Signal] = []
    for i, sample in enumerate(parsed.samples):
        key = SeriesKey.from_mapping(sample.name, sample.labels)
        ts = sample.epoch()
        if ts is not None:
            out.append(Sample(key, sample.value, ts))
            continue
        if key in seen:
            raise PayloadError(
                "samples payload",
                [
                    Problem(
                        f"samples[{i}]",
                        f"duplicate series {key} (first at samples[{seen[key]}])",
                        "send each series once, or give each sample its own ts",
                    )
                ],
            )
        seen[key] = i
        keys.append(key)
        values.append(sample.value)
    if keys:
        out.insert(
            0, MetricBatch(ts=now, keys=tuple(keys), values=np.asarray(values, dtype=np.float64))
        )
    return out


def create_ingest_router(
    sink: Sink,
    *,
    registry: CollectorRegistry,
    clock: Clock,
    secret: str | SecretStr | None = None,
    max_body_bytes: int = 1 << 20,
    log_pipeline: LogPipeline | None = None,
) -> APIRouter:
    """Build the ingestion endpoints around a sink. See the module docstring."""
    if max_body_bytes < 1:
        raise ValueError("max_body_bytes must be positive")
    key = secret.get_secret_value() if isinstance(secret, SecretStr) else secret
    if key is not None and not key:
        raise ValueError("an empty webhook secret would accept anything; pass None instead")
    rejected = Counter(
        "healops_ingest_rejected_total",
        "Ingestion requests rejected, by endpoint and reason.",
        ["endpoint", "reason"],
        registry=registry,
    )
    accepted = Counter(
        "healops_ingest_signals_total",
        "Signals accepted by the ingestion endpoints, by endpoint.",
        ["endpoint"],
        registry=registry,
    )
    router = APIRouter(prefix="/api/v1", tags=["ingest"])

    async def read_body(request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared is not None:
            if not declared.isdigit():
                raise _Rejected(400, "bad_content_length", "Content-Length is not a number")
            if int(declared) > max_body_bytes:
                raise _Rejected(
                    413,
                    "too_large",
                    f"body of {declared} bytes exceeds the limit of {max_body_bytes} bytes; "
                    "split it into smaller requests",
                )
        body = bytearray()
        try:
            async for chunk in request.stream():
                body += chunk
                if len(body) > max_body_bytes:
                    raise _Rejected(
                        413,
                        "too_large",
                        f"body exceeds the limit of {max_body_bytes} bytes; "
                        "split it into smaller requests",
                    )
        except ClientDisconnect:
            raise _Rejected(400, "client_disconnected", "the client went away") from None
        return bytes(body)

    def check_signature(request: Request, body: bytes) -> None:
        if key is None:
            return
        given = request.headers.get(SIGNATURE_HEADER)
        if given is None:
            raise _Rejected(
                401, "missing_signature", f"add {SIGNATURE_HEADER}: sha256=<hex HMAC of the body>"
            )
        if not hmac.compare_digest(given.encode(), sign(key, body).encode()):
            raise _Rejected(
                401,
                "bad_signature",
                f"{SIGNATURE_HEADER} does not match the body; sign the exact bytes sent "
                "with HMAC-SHA256 and send sha256=<hex>",
            )

    async def handle(
        endpoint: str,
        request: Request,
        parse: Callable[[Request, bytes, float], list[Signal]],
    ) -> JSONResponse:
        try:
            body = await read_body(request)
            check_signature(request, body)
            signals = parse(request, body, clock.now())
        except _Rejected as exc:
            return _rejection(rejected, endpoint, exc)
        except PayloadError as exc:
            status = 422 if exc.problems else 400
            return _rejection(
                rejected, endpoint, _Rejected(status, "invalid_payload", str(exc), exc.problems)
            )
        except ValidationError as exc:  # a parser that let pydantic's error escape
            return _rejection(rejected, endpoint, _Rejected(
                422, "invalid_payload", f"invalid {endpoint} payload: "
                + "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())))
        except ExpositionError as exc:
            return _rejection(
                rejected,
                endpoint,
                _Rejected(
                    400,
                    "invalid_exposition",
                    str(exc),
                    [Problem(f"line {exc.line}", exc.problem, "fix the exposition text")],
                ),
            )
        try:
            for signal in signals:
                sink(signal)
        except Exception as exc:  # the sink is someone else's code: report, don't crash
            rejected.labels(endpoint, "sink_failed").inc()
            return JSONResponse(
                {"error": "sink_failed", "message": f"could not store signals: {exc!r}"},
                status_code=503,
            )
        accepted.labels(endpoint).inc(len(signals))
        return JSONResponse({"accepted": len(signals)}, status_code=202)

    def alertmanager(request: Request, body: bytes, now: float) -> list[Signal]:
        _require_json(request)
        return list(parse_alertmanager(_decode_json(body)))

    def events(request: Request, body: bytes, now: float) -> list[Signal]:
        _require_json(request)
        return list(parse_events(_decode_json(body), now=now))

    def logs(request: Request, body: bytes, now: float) -> list[Signal]:
        media = _media_type(request)
        if media == "text/plain":
            service = request.query_params.get("service", "")
            if not service:
                raise _Rejected(
                    400,
                    "invalid_payload",
                    "plain-text logs need ?service=<name>",
                    [Problem("query.service", "missing", "add ?service=<name> to the URL")],
                )
            instance = request.query_params.get("instance", "")
            lines = [line for line in _text(body).splitlines() if line.strip()]
            events: list[LogEvent] = [
                LogEvent(now, service, line, detect_level(line), instance) for line in lines
            ]
        elif _is_json(media):
            events = parse_log_lines(_decode_json(body), now=now)
        else:
            raise _Rejected(
                415,
                "unsupported_media_type",
                f"send application/json or text/plain, not {media!r}",
            )
        if log_pipeline is None:
            return list(events)
        out: list[Signal] = list(log_pipeline.process(events))
        out.extend(log_pipeline.flush(now))
        return out

    def samples(request: Request, body: bytes, now: float) -> list[Signal]:
        media = _media_type(request)
        if media in ("text/plain", "application/openmetrics-text"):
            return parse_exposition(_text(body)).signals(now)
        if _is_json(media):
            return _samples_from_json(_decode_json(body), now)
        raise _Rejected(
            415,
            "unsupported_media_type",
            f"send text/plain (exposition format) or application/json, not {media!r}",
        )

    routes: dict[str, tuple[str, Callable[[Request, bytes, float], list[Signal]]]] = {
        "/alerts/alertmanager": ("alertmanager", alertmanager),
        "/events": ("events", events),
        "/logs": ("logs", logs),
        "/samples": ("samples", samples),
    }
    for path, (endpoint, parse) in routes.items():
        router.add_api_route(
            path,
            _endpoint(handle, endpoint, parse),
            methods=["POST"],
            status_code=202,
            name=f"ingest_{endpoint}",
        )
    return router


def _endpoint(
    handle: Callable[
        [str, Request, Callable[[Request, bytes, float], list[Signal]]], Awaitable[JSONResponse]
    ],
    endpoint: str,
    parse: Callable[[Request, bytes, float], list[Signal]],
) -> Callable[[Request], Awaitable[JSONResponse]]:
    async def route(request: Request) -> JSONResponse:
        return await handle(endpoint, request, parse)

    route.__name__ = f"ingest_{endpoint}"
    return route


def _rejection(counter: Counter, endpoint: str, exc: _Rejected) -> JSONResponse:
    counter.labels(endpoint, exc.reason).inc()
    content: dict[str, Any] = {"error": exc.reason, "message": exc.message}
    if exc.problems:
        content["problems"] = [{"loc": p.loc, "msg": p.msg, "fix": p.fix} for p in exc.problems]
    return JSONResponse(content, status_code=exc.status)
