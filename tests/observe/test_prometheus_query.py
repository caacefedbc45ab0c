from __future__ import annotations

import math
from typing import Any

import httpx
import pytest

from healops.domain.signals import SeriesKey
from healops.observe.base import SourceError
from healops.observe.prometheus_query import PrometheusQuerySource, parse_matrix


class FakePrometheus:
    """Answers query_range from a fixed series at 10 s resolution, recording each request."""

    def __init__(self) -> None:
        self.requests: list[httpx.QueryParams] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/v1/query_range"
        self.requests.append(request.url.params)
        start, end = float(request.url.params["start"]), float(request.url.params["end"])
        step = float(request.url.params["step"])
        values: list[list[Any]] = []
        t = start
        while t <= end:
            values.append([t, str(t / 10)])
            t += step
        result = [{"metric": {"__name__": "up", "job": "api"}, "values": values}]
        return httpx.Response(
            200, json={"status": "success", "data": {"resultType": "matrix", "result": result}}
        )


def make(handler: Any, **kw: Any) -> PrometheusQuerySource:
    client = httpx.Client(transport=httpx.MockTransport(handler))
    return PrometheusQuerySource("http://prom:9090/", {"up": "up"}, client=client, **kw)


def test_polls_return_each_sample_once_on_the_step_grid() -> None:
    fake = FakePrometheus()
    source = make(fake, step=10.0, lookback=30.0)
    first = source(now=1005.0)
    assert [s.ts for s in first] == [980.0, 990.0, 1000.0]
    assert all(s.key == SeriesKey.of("up", job="api") for s in first)
    assert first[0].value == 98.0
    second = source(now=1021.0)
    assert [s.ts for s in second] == [1010.0, 1020.0]
    assert fake.requests[1]["start"] == "1010.000"
    assert source(now=1022.0) == []


def test_expression_results_are_named_after_the_query() -> None:
    payload = {
        "status": "success",
        "data": {"resultType": "matrix", "result": [{"metric": {}, "values": [[1, "+Inf"]]}]},
    }
    (sample,) = parse_matrix(payload, default_name="ratio")
    assert sample.key == SeriesKey("ratio") and math.isinf(sample.value)


@pytest.mark.parametrize(
    ("status", "body", "retryable", "text"),
    [
        (
            400,
            {"status": "error", "errorType": "bad_data", "error": "parse error"},
            False,
            "bad_data",
        ),
        (503, {"status": "error", "errorType": "unavailable", "error": "x"}, True, "unavailable"),
        (
            200,
            {"status": "success", "data": {"resultType": "vector", "result": []}},
            False,
            "data.resultType",
        ),
    ],
)
def test_api_errors_raise_source_errors(status: int, body: Any, retryable: bool, text: str) -> None:
    source = make(lambda r: httpx.Response(status, json=body))
    with pytest.raises(SourceError) as info:
        source(now=100.0)
    assert info.value.retryable is retryable and text in str(info.value)


def test_connection_failure_and_non_json_are_source_errors() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(SourceError) as info:
        make(refuse)(now=100.0)
    assert info.value.retryable
    with pytest.raises(SourceError) as info:
        make(lambda r: httpx.Response(502, text="<html>"))(now=100.0)
    assert info.value.retryable and "non-JSON" in str(info.value)


def test_bad_values_are_rejected() -> None:
    payload = {
        "status": "success",
        "data": {"resultType": "matrix", "result": [{"metric": {}, "values": [[1, "one"]]}]},
    }
    with pytest.raises(SourceError, match="not a number"):
        parse_matrix(payload, default_name="q")


def test_invalid_configuration_is_refused() -> None:
    with pytest.raises(ValueError):
        make(FakePrometheus(), step=0.0)
