from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from healops.observe.http_probe import HttpProbeSource, HttpProbeTarget


def values(samples: list, name: str) -> list[float]:  # type: ignore[type-arg]
    return [s.value for s in samples if s.key.name == name]


@pytest.fixture
def server() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200 if self.path == "/healthz" else 500)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def test_a_real_endpoint_reports_status_and_latency(server: str) -> None:
    with httpx.Client() as client:
        probe = HttpProbeSource(
            [HttpProbeTarget(f"{server}/healthz", service="api"), HttpProbeTarget(f"{server}/x")],
            client=client,
        )
        samples = probe(now=5.0)
    assert values(samples, "probe_success") == [1.0, 0.0]
    assert values(samples, "probe_http_status_code") == [200.0, 500.0]
    latencies = values(samples, "probe_duration_seconds")
    assert len(latencies) == 2 and all(0 <= v < 5 for v in latencies)
    assert samples[0].key.service == "api" and samples[0].ts == 5.0


def test_an_unreachable_endpoint_is_a_failed_probe_not_an_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("timed out", request=request)

    probe = HttpProbeSource(
        [HttpProbeTarget("http://down/healthz")],
        client=httpx.Client(transport=httpx.MockTransport(refuse)),
    )
    samples = probe(now=1.0)
    assert values(samples, "probe_success") == [0.0]
    assert values(samples, "probe_http_status_code") == [0.0]
    assert samples[0].key.label("target") == "http://down/healthz"


def test_the_accepted_status_range_is_configurable() -> None:
    client = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(404)))
    probe = HttpProbeSource([HttpProbeTarget("http://a/", ok_min=404, ok_max=404)], client=client)
    assert values(probe(now=1.0), "probe_success") == [1.0]
