from __future__ import annotations

import httpx

from healops.domain.signals import MetricBatch, SeriesKey
from healops.observe.scrape import PrometheusScrapeSource, ScrapeTarget

GOOD = "# TYPE requests_total counter\nrequests_total 7\n"


def handler(request: httpx.Request) -> httpx.Response:
    host = request.url.host
    if host == "good":
        return httpx.Response(200, text=GOOD)
    if host == "down":
        raise httpx.ConnectError("connection refused", request=request)
    if host == "broken":
        return httpx.Response(200, text="requests_total seven\n")
    if host == "missing":
        return httpx.Response(404)
    return httpx.Response(503)


def source(*hosts: str) -> PrometheusScrapeSource:
    client = httpx.Client(transport=httpx.MockTransport(handler))
    return PrometheusScrapeSource(
        [ScrapeTarget(f"http://{h}:9100/metrics", job="node") for h in hosts], client=client
    )


def test_healthy_target_yields_a_batch_with_job_and_instance() -> None:
    (batch,) = source("good")(now=50.0)
    assert isinstance(batch, MetricBatch) and batch.ts == 50.0
    assert batch.keys == (SeriesKey.of("requests_total", instance="good:9100", job="node"),)


def test_failing_targets_yield_nothing_and_record_why() -> None:
    src = source("down", "good", "broken", "missing", "busy")
    signals = src(now=1.0)
    assert len(signals) == 1
    assert set(src.failures) == {
        "http://down:9100/metrics",
        "http://broken:9100/metrics",
        "http://missing:9100/metrics",
        "http://busy:9100/metrics",
    }
    assert src.failures["http://down:9100/metrics"].error.retryable
    assert src.failures["http://busy:9100/metrics"].error.retryable
    assert not src.failures["http://missing:9100/metrics"].error.retryable
    broken = src.failures["http://broken:9100/metrics"]
    assert not broken.error.retryable and "line 1" in str(broken.error) and broken.at == 1.0


def test_a_recovered_target_clears_its_failure() -> None:
    state = {"up": False}

    def flaky(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200 if state["up"] else 500, text=GOOD)

    target = ScrapeTarget("https://api.internal/metrics", instance="api-1", labels={"env": "p"})
    client = httpx.Client(transport=httpx.MockTransport(flaky))
    src = PrometheusScrapeSource([target], client=client)
    assert src(now=1.0) == [] and src.failures
    state["up"] = True
    (batch,) = src(now=2.0)
    assert not src.failures
    assert isinstance(batch, MetricBatch)
    assert batch.keys[0].labels == (("env", "p"), ("instance", "api-1"), ("job", "scrape"))


def test_default_instance_uses_the_scheme_port() -> None:
    assert ScrapeTarget("https://h/metrics").target_labels()["instance"] == "h:443"
