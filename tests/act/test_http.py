"""HttpExecutor with httpx.MockTransport and against a real HTTP server on loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from healops.act.base import ActionError, StepRequest
from healops.act.http import Endpoint, HttpExecutor

ENDPOINTS = {
    "restart": Endpoint("POST", "/services/{target}/restart"),
    "deploy": Endpoint("PUT", "/services/{target}/versions/{version}",
                       params={"version": "version"}),
}


def _executor(handler: object) -> HttpExecutor:
    return HttpExecutor(base_url="http://ops.test/api/v1", endpoints=ENDPOINTS,
                        transport=httpx.MockTransport(handler))  # type: ignore[arg-type]


def test_request_shape_path_body_and_idempotency_header() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"changed": True, "message": "deployed"})

    ex = _executor(handler)
    step = StepRequest(action="deploy", target="web", params={"version": "2.0.1"})
    r = ex.execute(step, key="key-1")
    assert (r.ok, r.changed, r.message) == (True, True, "deployed")
    assert not ex.execute(step, key="key-1").changed
    assert len(seen) == 1
    req = seen[0]
    assert req.method == "PUT"
    assert req.url.raw_path == b"/api/v1/services/web/versions/2.0.1"
    assert req.headers["Idempotency-Key"] == "key-1"
    assert json.loads(req.content) == {"target": "web", "params": {"version": "2.0.1"},
                                       "idempotency_key": "key-1"}


@pytest.mark.parametrize(("status", "retryable"),
                         [(500, True), (503, True), (429, True), (400, False), (404, False),
                          (409, False)])
def test_status_codes_decide_retryable(status: int, retryable: bool) -> None:
    ex = _executor(lambda request: httpx.Response(status, text="nope"))
    with pytest.raises(ActionError) as err:
        ex.execute(StepRequest(action="restart", target="web"), key=f"k{status}")
    assert err.value.retryable is retryable and str(status) in str(err.value)


def test_timeouts_and_connection_errors_are_retryable() -> None:
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    for handler in (timeout, refused):
        with pytest.raises(ActionError) as err:
            _executor(handler).execute(StepRequest(action="restart", target="web"), key="k")
        assert err.value.retryable


def test_failed_call_is_not_remembered_so_the_same_key_can_retry() -> None:
    answers = iter([httpx.Response(502), httpx.Response(200, json={"changed": True})])
    ex = _executor(lambda request: next(answers))
    with pytest.raises(ActionError):
        ex.execute(StepRequest(action="restart", target="web"), key="k")
    assert ex.execute(StepRequest(action="restart", target="web"), key="k").changed


def test_dry_run_sends_nothing() -> None:
    seen: list[httpx.Request] = []
    ex = _executor(lambda request: seen.append(request) or httpx.Response(200))
    r = ex.execute(StepRequest(action="restart", target="web"), key="k", dry_run=True)
    assert not r.changed and "POST http://ops.test/api/v1/services/web/restart" in r.message
    assert seen == []


def test_bad_endpoint_config_is_refused() -> None:
    with pytest.raises(ValueError):
        Endpoint("GET", "/x")
    with pytest.raises(ValueError):
        Endpoint("POST", "/x/{undeclared}")
    with pytest.raises(ValueError):
        HttpExecutor(base_url="file:///etc", endpoints={})


class _Recorder(BaseHTTPRequestHandler):
    calls: list[tuple[str, str, dict[str, object]]] = []
    applied: set[str] = set()

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).calls.append((self.command, self.path, body))
        key = self.headers["Idempotency-Key"]
        changed = key not in self.applied
        self.applied.add(key)
        if self.path.endswith("/boom/restart"):
            self.send_response(503)
            payload = b"{}"
        else:
            self.send_response(200)
            payload = json.dumps({"changed": changed, "message": "ok"}).encode()
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    _Recorder.calls, _Recorder.applied = [], set()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05})
    t.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}/ops"
    finally:
        srv.shutdown()
        srv.server_close()
        t.join()


def test_against_a_real_http_server(server: str) -> None:
    ex = HttpExecutor(base_url=server, endpoints=ENDPOINTS)
    try:
        assert ex.execute(StepRequest(action="restart", target="web"), key="a").changed
        assert not ex.execute(StepRequest(action="restart", target="web"), key="a").changed
        with pytest.raises(ActionError) as err:
            ex.execute(StepRequest(action="restart", target="boom"), key="b")
        assert err.value.retryable
    finally:
        ex.close()
    assert [(m, p) for m, p, _ in _Recorder.calls] == [
        ("POST", "/ops/services/web/restart"), ("POST", "/ops/services/boom/restart")]
