"""Call an allowlisted HTTP endpoint per action (httpx).

Each action names an ``Endpoint``: a method and a path template under one fixed base URL.
``{target}`` and declared parameters fill whole path segments, validated by kind and then
percent-encoded with nothing left safe (so ``/``, ``?``, ``#`` and ``..`` cannot reshape
the URL). The JSON body carries the target, the validated parameters and the idempotency
key, which is also sent as the ``Idempotency-Key`` header for the server to deduplicate.

5xx answers, 408, 429, timeouts and connection errors are retryable; other 4xx are not.

>>> import httpx
>>> seen = []
>>> def handler(request: httpx.Request) -> httpx.Response:
...     seen.append((request.method, str(request.url)))
...     return httpx.Response(200, json={"changed": True})
>>> ex = HttpExecutor(base_url="http://ops.internal/api",
...                   endpoints={"restart": Endpoint("POST", "/services/{target}/restart")},
...                   transport=httpx.MockTransport(handler))
>>> ex.execute(StepRequest(action="restart", target="web-1"), key="k").changed
True
>>> seen
[('POST', 'http://ops.internal/api/services/web-1/restart')]
>>> ex.close()
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from healops.act import validate
from healops.act.base import ActionError, Observed, StepRequest
from healops.domain.actions import ActionResult

__all__ = ["Endpoint", "HttpExecutor"]

_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_RETRYABLE_4XX = frozenset({408, 429})


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One allowlisted call. ``params`` declares each accepted parameter and its kind."""

    method: str
    path: str
    params: Mapping[str, str] = field(default_factory=dict)
    json_body: bool = True

    def __post_init__(self) -> None:
        if self.method not in _METHODS:
            raise ValueError(f"method {self.method!r} is not one of {sorted(_METHODS)}")
        if not self.path.startswith("/") or "?" in self.path or "#" in self.path:
            raise ValueError(f"path {self.path!r} must start with '/' and have no query")
        for kind in self.params.values():
            if kind not in validate.KINDS:
                raise ValueError(f"unknown parameter kind {kind!r}")
        for ph in _PLACEHOLDER.findall(self.path):
            if ph != "target" and ph not in self.params:
                raise ValueError(f"placeholder {{{ph}}} in {self.path!r} is not a declared param")


class HttpExecutor:
    """The act port over HTTP. Actions are the names in ``endpoints``."""

    def __init__(
        self,
        *,
        base_url: str,
        endpoints: Mapping[str, Endpoint],
        headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
        ledger: validate.IdempotencyLedger | None = None,
    ) -> None:
        url = httpx.URL(base_url)
        if url.scheme not in ("http", "https") or not url.host or url.query or url.fragment:
            raise ValueError(f"base_url {base_url!r} must be http(s)://host[/prefix]")
        self._prefix = url.raw_path.decode("ascii").rstrip("/")
        self.endpoints = dict(endpoints)
        self._client = httpx.Client(base_url=url.copy_with(raw_path=b"/"),
                                    headers=dict(headers or {}), transport=transport)
        self._ledger = ledger or validate.IdempotencyLedger()

    def close(self) -> None:
        self._client.close()

    def render(self, step: StepRequest, key: str) -> httpx.Request:
        """The exact request the step would send, after validation."""
        endpoint = self.endpoints[validate.check_action(step, self.endpoints, "HttpExecutor")]
        target = validate.name(step.target)
        values = validate.declared_params(step.action, step.params, endpoint.params)
        segments = {"target": target, **values}
        path = _PLACEHOLDER.sub(lambda m: quote(segments[m.group(1)], safe=""), endpoint.path)
        body: dict[str, Any] | None = None
        if endpoint.json_body:
            body = {"target": target, "params": values, "idempotency_key": key}
        return self._client.build_request(
            endpoint.method, self._prefix + path, json=body,
            headers={"Idempotency-Key": key},
        )

    def observe(self, step: StepRequest, *, key: str, since: float) -> Observed:
        """Always ``UNKNOWN``: an endpoint is an arbitrary call, and this executor has no
        read that says whether the call under ``key`` took effect. An intent left by a
        crash is escalated to a person, never re-run.
        """
        return Observed.UNKNOWN

    def execute(self, step: StepRequest, *, key: str, dry_run: bool = False) -> ActionResult:
        validate.check_key(key)
        request = self.render(step, key)
        t = validate.timeout(step)
        if dry_run:
            return ActionResult(ok=True, changed=False,
                                message=f"dry run: would {request.method} {request.url}")
        return self._ledger.apply(key, step, lambda: self._send(request, t))

    def _send(self, request: httpx.Request, t: float) -> ActionResult:
        request.extensions["timeout"] = httpx.Timeout(t).as_dict()
        try:
            response = self._client.send(request)
        except httpx.TimeoutException as exc:
            raise ActionError(f"{request.method} {request.url} timed out after {t}s",
                              retryable=True) from exc
        except httpx.TransportError as exc:
            raise ActionError(f"{request.method} {request.url}: {exc}", retryable=True) from exc
        status = response.status_code
        if status >= 400:
            raise ActionError(
                f"{request.method} {request.url} answered {status}: {response.text[:300]}",
                retryable=status >= 500 or status in _RETRYABLE_4XX,
            )
        changed, message = True, f"{request.method} {request.url} answered {status}"
        if response.headers.get("content-type", "").startswith("application/json"):
            try:
                doc = response.json()
            except ValueError:
                doc = None
            if isinstance(doc, dict):
                changed = doc.get("changed") is not False
                message = str(doc.get("message", message))[:1000]
        return ActionResult(ok=True, changed=changed, message=message)
