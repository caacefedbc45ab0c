"""A real Prometheus scrapes a small test service; our range-query source reads it back.

Timeline: the service exposes ``healops_it_requests_total 42``; Prometheus scrapes it every
second; our source sees samples of 42 labelled with the job and instance; the counter moves
to 43 and the next polls of the same source return only newer samples, which reach 43.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from healops.domain.signals import MetricBatch, Sample, SeriesKey
from healops.observe.prometheus_query import PrometheusQuerySource
from healops.observe.scrape import PrometheusScrapeSource, ScrapeTarget

from .conftest import Processes, Workdir, free_port, poll_until, require_binary

pytestmark = pytest.mark.integration

CONFIG = """\
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: healops-it
    scrape_interval: 1s
    scrape_timeout: 1s
    static_configs:
      - targets: ['127.0.0.1:{port}']
        labels:
          service: checkout
"""


class MetricsService:
    """Serves /metrics with a counter the test can move."""

    def __init__(self) -> None:
        self.requests_total = 42
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server spelling
                if self.path != "/metrics":
                    self.send_error(404)
                    return
                body = (
                    "# HELP healops_it_requests_total Requests served.\n"
                    "# TYPE healops_it_requests_total counter\n"
                    f'healops_it_requests_total{{code="200",path="/a\\"b"}} '
                    f"{service.requests_total}\n"
                    "# TYPE healops_it_latency_seconds histogram\n"
                    'healops_it_latency_seconds_bucket{le="0.1"} 3\n'
                    'healops_it_latency_seconds_bucket{le="+Inf"} 4\n'
                    "healops_it_latency_seconds_sum 0.7\n"
                    "healops_it_latency_seconds_count 4\n"
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)


@pytest.fixture
def metrics_service() -> Iterator[MetricsService]:
    service = MetricsService()
    service.thread.start()
    try:
        yield service
    finally:
        service.server.shutdown()
        service.server.server_close()
        service.thread.join(timeout=10)


def test_range_query_source_reads_what_prometheus_scraped(
    workdir: Workdir, processes: Processes, metrics_service: MetricsService
) -> None:
    binary = require_binary("prometheus")
    port = free_port()
    config = workdir.write("prometheus.yml", CONFIG.format(port=metrics_service.port))
    processes.start(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={workdir.path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        port=port,
        name="prometheus",
    )
    with httpx.Client(timeout=5.0) as client:
        source = PrometheusQuerySource(
            f"http://127.0.0.1:{port}",
            {"requests": "healops_it_requests_total"},
            client=client,
            step=1.0,
            lookback=60.0,
        )
        seen: list[Sample] = []

        def samples_with(value: float) -> bool:
            seen.extend(source(now=time.time()))
            return any(s.value == value for s in seen)

        poll_until(lambda: samples_with(42.0), timeout=30, what="Prometheus to hold a sample")
        key = SeriesKey.of(
            "healops_it_requests_total",
            code="200",
            path='/a"b',
            instance=f"127.0.0.1:{metrics_service.port}",
            job="healops-it",
            service="checkout",
        )
        assert {s.key for s in seen} == {key}
        assert {s.value for s in seen} == {42.0}

        metrics_service.requests_total = 43
        poll_until(lambda: samples_with(43.0), timeout=30, what="the new value to be scraped")
        stamps = [s.ts for s in seen]
        assert stamps == sorted(stamps) and len(stamps) == len(set(stamps)), "a sample repeated"
        assert all(float(t).is_integer() for t in stamps), "polls stay on the step grid"

        # The same service, and Prometheus's own real-world exposition, through our scraper.
        scraper = PrometheusScrapeSource(
            [
                ScrapeTarget(f"http://127.0.0.1:{metrics_service.port}/metrics", job="direct"),
                ScrapeTarget(f"http://127.0.0.1:{port}/metrics", job="prometheus"),
            ],
            client=client,
        )
        signals = scraper(now=time.time())
        assert scraper.failures == {}
        batches = [s for s in signals if isinstance(s, MetricBatch)]
        names = {k.name for b in batches for k in b.keys}
        assert "healops_it_latency_seconds_bucket" in names
        assert "prometheus_tsdb_head_series" in names
        direct = dict(zip(batches[0].keys, batches[0].values, strict=True))
        bucket = SeriesKey.of(
            "healops_it_latency_seconds_bucket",
            le="+Inf",
            instance=f"127.0.0.1:{metrics_service.port}",
            job="direct",
        )
        assert direct[bucket] == 4.0
        assert all(not math.isnan(v) for v in direct.values())
