"""Pull series from a Prometheus server with ``/api/v1/query_range``.

Each poll asks for ``[now - lookback, now]`` (or from just after the last sample already
returned, so a sample is yielded once) at ``step`` resolution and turns the matrix result
into ``Sample`` values. A series keeps its ``__name__``; an expression without one (a rate,
a sum) is named after its query.

>>> import httpx
>>> def handler(request: httpx.Request) -> httpx.Response:
...     return httpx.Response(200, json={"status": "success", "data": {
...         "resultType": "matrix",
...         "result": [{"metric": {"job": "api"}, "values": [[100, "0.5"], [115, "0.25"]]}]}})
>>> client = httpx.Client(transport=httpx.MockTransport(handler))
>>> source = PrometheusQuerySource("http://prom:9090", {"error_ratio": "sum(rate(x[1m]))"},
...                                client=client, step=15.0)
>>> [(str(s.key), s.value, s.ts) for s in source(now=120.0)]
[('error_ratio{job="api"}', 0.5, 100.0), ('error_ratio{job="api"}', 0.25, 115.0)]
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from healops.domain.signals import Sample, SeriesKey
from healops.observe.base import SourceError
from healops.observe.exposition import parse_value

__all__ = ["PrometheusQuerySource", "parse_matrix"]

_RETRYABLE_ERRORS = frozenset({"timeout", "canceled", "internal", "unavailable"})


class _Series(BaseModel):
    model_config = ConfigDict(extra="ignore")
    metric: dict[str, str]
    values: list[tuple[float, str]]


class _Data(BaseModel):
    model_config = ConfigDict(extra="ignore")
    result_type: Literal["matrix"] = Field(alias="resultType")
    result: list[_Series]


class _Response(BaseModel):
    model_config = ConfigDict(extra="ignore")
    status: Literal["success", "error"]
    data: _Data | None = None
    error_type: str = Field(default="", alias="errorType")
    error: str = ""


def parse_matrix(payload: Any, *, default_name: str) -> list[Sample]:
    """Turn a ``query_range`` JSON response into samples, or raise ``SourceError``."""
    try:
        response = _Response.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise SourceError(
            f"unexpected query_range response at {where}: {first['msg']}", retryable=False
        ) from None
    if response.status == "error" or response.data is None:
        raise SourceError(
            f"Prometheus query failed ({response.error_type or 'unknown'}): {response.error}",
            retryable=response.error_type in _RETRYABLE_ERRORS,
        )
    samples: list[Sample] = []
    for series in response.data.result:
        labels = dict(series.metric)
        name = labels.pop("__name__", default_name)
        key = SeriesKey.from_mapping(name, labels)
        for ts, raw in series.values:
            try:
                value = parse_value(raw)
            except ValueError as exc:
                raise SourceError(f"bad sample value in {key}: {exc}", retryable=False) from None
            samples.append(Sample(key, value, ts))
    return samples


class PrometheusQuerySource:
    """A pull source over the Prometheus HTTP API; ``queries`` maps a name to PromQL."""

    def __init__(
        self,
        base_url: str,
        queries: Mapping[str, str],
        *,
        client: httpx.Client,
        step: float = 15.0,
        lookback: float = 300.0,
        timeout: float = 10.0,
    ) -> None:
        if step <= 0 or lookback <= 0:
            raise ValueError("step and lookback must be positive")
        self.base_url = base_url.rstrip("/")
        self.queries = dict(queries)
        self.step = step
        self.lookback = lookback
        self._client = client
        self._timeout = timeout
        self._last_ts: dict[str, float] = {}

    def query_range(
        self, expr: str, *, start: float, end: float, name: str = "query"
    ) -> list[Sample]:
        try:
            response = self._client.get(
                f"{self.base_url}/api/v1/query_range",
                params={
                    "query": expr,
                    "start": f"{start:.3f}",
                    "end": f"{end:.3f}",
                    "step": f"{self.step:g}",
                },
                timeout=self._timeout,
            )
        except httpx.HTTPError as exc:
            raise SourceError(f"query_range {name!r} failed: {exc!r}", retryable=True) from exc
        try:
            payload = response.json()
        except ValueError:
            raise SourceError(
                f"query_range {name!r}: HTTP {response.status_code} with a non-JSON body",
                retryable=response.status_code >= 500,
            ) from None
        return parse_matrix(payload, default_name=name)

    def __call__(self, now: float) -> list[Sample]:
        out: list[Sample] = []
        for name, expr in self.queries.items():
            start = now - self.lookback
            last = self._last_ts.get(name)
            if last is not None:
                start = max(start, last + self.step / 2)
            # Align to the step grid so that successive polls see the same timestamps.
            start = math.ceil(start / self.step) * self.step
            if start > now:
                continue
            samples = self.query_range(expr, start=start, end=now, name=name)
            fresh = [s for s in samples if last is None or s.ts > last]
            if fresh:
                self._last_ts[name] = max(s.ts for s in fresh)
            out.extend(fresh)
        return out
