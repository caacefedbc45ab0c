"""Replay recorded Kubernetes API exchanges from a local HTTP server and record the requests.

A fixture (``tests/fixtures/k8s/<name>.json``) is a list of exchanges, in order::

    {"request": {"method": "PATCH", "path": "/apis/apps/v1/...", "query": {...},
                 "content_type": "application/merge-patch+json", "body": {...}},
     "response": {"status": 200, "body": {...}}}

The server answers each request with the first unused exchange recorded for the same
method and path (599 if there is none), and keeps what actually arrived, so a test can
assert that the requests sent were exactly the recorded ones.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "k8s"


def load(name: str) -> list[dict[str, Any]]:
    exchanges: list[dict[str, Any]] = json.loads((FIXTURES / f"{name}.json").read_text())
    return exchanges


@dataclass
class Replay:
    exchanges: list[dict[str, Any]]
    host: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    used: set[int] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def expected(self) -> list[dict[str, Any]]:
        return [e["request"] for e in self.exchanges]

    def api_client(self) -> Any:
        from kubernetes import client

        cfg = client.Configuration()
        cfg.host = self.host
        return client.ApiClient(cfg)

    def _answer(self, request: dict[str, Any]) -> tuple[int, bytes]:
        with self._lock:
            self.received.append(request)
            for i, exchange in enumerate(self.exchanges):
                recorded = exchange["request"]
                if i not in self.used and (recorded["method"], recorded["path"]) == (
                        request["method"], request["path"]):
                    self.used.add(i)
                    response = exchange["response"]
                    return int(response["status"]), json.dumps(response.get("body", {})).encode()
        return 599, b'{"message": "no recorded exchange for this request"}'


@contextlib.contextmanager
def replaying(exchanges: list[dict[str, Any]]) -> Iterator[Replay]:
    replay = Replay(exchanges)

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            request: dict[str, Any] = {"method": self.command, "path": url.path}
            if url.query:
                request["query"] = dict(parse_qsl(url.query))
            if raw:
                request["content_type"] = self.headers.get("Content-Type")
                request["body"] = json.loads(raw)
            status, payload = replay._answer(request)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_PATCH = do_DELETE = do_POST = do_PUT = _handle  # noqa: N815

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    replay.host = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield replay
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
