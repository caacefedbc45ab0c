"""Every route x every role, generated from the app's route table: a new route that
forgets to declare its role, or whose guard disagrees with its declaration, fails here."""

from __future__ import annotations

import hmac
import json
from hashlib import sha256

import pytest
from fastapi.routing import APIRoute
from tests.api._app import Served, serve_lab

from healops.api.app import api_routes, route_role
from healops.api.auth import COOKIE, PUBLIC, WEBHOOK
from healops.api.tokens import Role

CALLERS: list[Role | None] = [None, *Role]
EVENT = {"type": "change", "kind": "deploy", "service": "api", "version": "v9", "ts": 1767225600.0}
BODIES: dict[str, object] = {
    "/api/v1/incidents/{incident_id}/reject": {"comment": "not now"},
    "/api/v1/incidents/{incident_id}/approve": {},
    "/api/v1/tokens": {"role": "viewer", "name": "made-by-test"},
    "/api/v1/events": {"events": [EVENT]},
    # Matches nothing in the lab, so the silences the allowed roles make change nothing.
    "/api/v1/silences": {"matchers": ['service="no-such-service"'], "duration_s": 60,
                         "comment": "from the role test"},
}


@pytest.fixture(scope="module")
def served() -> Served:
    return serve_lab()


def _routes(served: Served) -> list[APIRoute]:
    return api_routes(served.app)


def _path(route: APIRoute, served: Served) -> str:
    victim = served.app.state.tokens.create(role=Role.VIEWER, name="victim", now=0.0).info.id
    values = {"incident_id": served.pending, "token_id": victim, "name": "app.css",
              "change_id": f"CHG-{served.pending}-0", "problem_id": "PRB-none",
              "silence_id": "no-such-silence"}
    return route.path.format(**{p: values[p] for p in route.param_convertors})


def method_of(route: APIRoute) -> str:
    return sorted(route.methods)[0]


def _call(served: Served, route: APIRoute, caller: Role | None) -> tuple[int, str]:
    method = method_of(route)
    path = _path(route, served)
    client = served.client()
    headers: dict[str, str] = {}
    kw: dict[str, object] = {}
    ui = path.startswith("/ui")
    if caller is not None:
        if ui:
            client.cookies[COOKIE] = served.tokens[caller]
        else:
            headers.update(served.auth(caller))
    if ui and method == "POST":
        from healops.api.auth import csrf_token

        token = served.tokens[caller] if caller else ""
        # /ui/login takes its credential from the form, not from the cookie.
        kw["data"] = {"csrf": csrf_token(token), "comment": "from the role test",
                      "token": token}
    elif method == "POST":
        kw["json"] = BODIES.get(route.path, {})
    r = client.request(method, path, headers=headers, **kw)
    return r.status_code, r.headers.get("location", "")


def test_every_route_declares_the_role_it_needs() -> None:
    served = serve_lab()
    undeclared = []
    for route in _routes(served):
        try:
            role = route_role(route)
        except LookupError:
            undeclared.append(route.path)
            continue
        assert role in {PUBLIC, WEBHOOK, *(r.value for r in Role)}, (route.path, role)
    assert undeclared == []
    roles = {route_role(r) for r in _routes(served)}
    assert roles >= {PUBLIC, WEBHOOK, "viewer", "approver", "admin"}


@pytest.mark.parametrize("caller", CALLERS, ids=lambda c: str(c) if c else "anonymous")
def test_each_route_allows_exactly_the_roles_at_or_above_its_own(
        served: Served, caller: Role | None) -> None:
    wrong: list[str] = []
    checked = 0
    for route in _routes(served):
        declared = route_role(route)
        needed = Role.OPERATOR if declared == WEBHOOK else (
            None if declared == PUBLIC else Role(declared))
        allowed = needed is None or (caller is not None and caller >= needed)
        status, location = _call(served, route, caller)
        checked += 1
        ui = route.path.startswith("/ui")
        sent_to_login = status == 303 and location.startswith("/ui/login")
        if route.path == "/ui/login" and caller is None and method_of(route) == "POST":
            allowed = False  # no credential in the form: the login itself is refused
        if allowed:
            if status in (401, 403) or (sent_to_login and route.path != "/ui/logout"):
                wrong.append(f"{sorted(route.methods)} {route.path}: {caller} got {status}")
        elif caller is None:
            ok = (sent_to_login or route.path == "/ui/login") if ui else status == 401
            if not ok:
                wrong.append(f"{route.path}: anonymous got {status} {location}")
        elif status != 403:
            wrong.append(f"{route.path}: {caller} below {needed} got {status}")
        if status >= 500:
            wrong.append(f"{route.path}: {caller} got a server error {status}")
    assert checked == len(_routes(served)) >= 20
    assert wrong == []


def test_signed_webhooks_need_no_token_and_a_bad_signature_is_refused() -> None:
    served = serve_lab(webhook_secret="s3cret")
    body = json.dumps({"events": [EVENT]}).encode()
    sig = "sha256=" + hmac.new(b"s3cret", body, sha256).hexdigest()
    client = served.client()
    headers = {"Content-Type": "application/json"}
    good = client.post("/api/v1/events", content=body,
                       headers={**headers, "X-Healops-Signature": sig})
    assert good.status_code == 202, good.text
    bad = client.post("/api/v1/events", content=body,
                      headers={**headers, "X-Healops-Signature": "sha256=" + "0" * 64})
    assert bad.status_code == 401 and bad.json()["error"] == "bad_signature"
    # A token does not replace the signature when a secret is configured.
    unsigned = client.post("/api/v1/events", content=body,
                           headers={**headers, **served.auth(Role.ADMIN)})
    assert unsigned.status_code == 401 and unsigned.json()["error"] == "missing_signature"
    assert len(served.lab.runtime.buffer) == 1
