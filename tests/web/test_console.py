"""The console over HTTP: sign-in cookie, CSRF, approve/reject forms, pages and escaping."""

from __future__ import annotations

import re

import pytest
from tests.api._app import Client, Served, serve_lab

from healops.api.auth import COOKIE, csrf_token
from healops.api.tokens import Role
from healops.domain.incidents import IncidentState


@pytest.fixture
def served() -> Served:
    return serve_lab()


def _signed_in(served: Served, role: Role) -> Client:
    c = served.client()
    c.cookies[COOKIE] = served.tokens[role]
    return c


def test_signing_in_sets_a_strict_httponly_cookie(served: Served) -> None:
    r = served.client().post("/ui/login", data={"token": served.tokens[Role.VIEWER],
                                                "next": "/ui/services"})
    assert r.status_code == 303 and r.headers["location"] == "/ui/services"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie
    assert "SameSite=strict" in cookie and "Path=/" in cookie


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/",
                                    "/\\evil.example", "javascript:alert(1)"])
def test_sign_in_never_redirects_off_site(served: Served, target: str) -> None:
    r = served.client().post("/ui/login", data={"token": served.tokens[Role.VIEWER],
                                                "next": target})
    assert r.status_code == 303 and r.headers["location"] == "/ui/incidents"


def test_a_bad_token_is_refused_with_the_form_again(served: Served) -> None:
    r = served.client().post("/ui/login", data={"token": "hot_nope"})
    assert r.status_code == 401 and "not valid" in r.text and "set-cookie" not in r.headers


def test_pages_need_a_session(served: Served) -> None:
    r = served.client().get("/ui/incidents?state=open")
    assert r.status_code == 303
    assert r.headers["location"] == "/ui/login?next=%2Fui%2Fincidents%3Fstate%3Dopen"


def test_every_page_renders_for_a_viewer(served: Served) -> None:
    c = _signed_in(served, Role.VIEWER)
    queue = c.get("/ui/incidents")
    assert queue.status_code == 200 and served.pending in queue.text
    assert "default-src 'self'" in queue.headers["content-security-policy"]
    detail = c.get(f"/ui/incidents/{served.pending}").text
    assert "slow_dependency" in detail and "failover" in detail
    assert detail.count("<svg") >= 2 and "polyline" in detail
    services = c.get("/ui/services").text
    assert re.search(r'data-service="db" data-health="awaiting_approval"', services)
    assert re.search(r'data-service="cache" data-health="ok"', services)
    books = c.get("/ui/runbooks").text
    assert "failover" in books and "approval" in books
    assert "Service desk record" in detail and "CHG-" in detail  # ITSM record and change
    assert "No problem records" in c.get("/ui/problems").text
    dash = c.get("/ui/dashboard").text
    assert "MTTD" in dash and "MTTR" in dash and "pages per hour" in dash
    assert dash.count("<rect") == 4 * 24  # four activity charts of 24 hourly bars
    assert re.search(r"<td>db</td><td>100\.000%</td>", dash)
    assert c.get("/ui/incidents/INC-404").status_code == 404
    assert c.get("/ui/static/app.css").headers["content-type"].startswith("text/css")
    assert c.get("/ui/static/nope.css").status_code == 404


def test_approving_from_the_console_needs_the_approver_role_and_the_csrf_token(
        served: Served) -> None:
    inc = served.lab.engine.incidents[served.pending]
    url = f"/ui/incidents/{served.pending}/approve"
    viewer = _signed_in(served, Role.VIEWER)
    assert viewer.post(url, data={"csrf": csrf_token(served.tokens[Role.VIEWER])}
                       ).status_code == 403
    approver = _signed_in(served, Role.APPROVER)
    forged = approver.post(url, data={"csrf": "0" * 32})
    assert forged.status_code == 403 and "CSRF" in forged.text
    assert inc.state is IncidentState.AWAITING_APPROVAL
    ok = approver.post(url, data={"csrf": csrf_token(served.tokens[Role.APPROVER]),
                                  "comment": "go"})
    assert ok.status_code == 303 and ok.headers["location"].startswith(
        f"/ui/incidents/{served.pending}?flash=Approved")
    assert inc.state in (IncidentState.VERIFYING, IncidentState.ACTING)
    twice = approver.post(url, data={"csrf": csrf_token(served.tokens[Role.APPROVER])})
    assert twice.status_code == 409


def test_rejecting_from_the_console_needs_a_comment(served: Served) -> None:
    inc = served.lab.engine.incidents[served.pending]
    url = f"/ui/incidents/{served.pending}/reject"
    approver = _signed_in(served, Role.APPROVER)
    csrf = csrf_token(served.tokens[Role.APPROVER])
    assert approver.post(url, data={"csrf": csrf, "comment": "  "}).status_code == 400
    assert inc.state is IncidentState.AWAITING_APPROVAL
    r = approver.post(url, data={"csrf": csrf, "comment": "<b>change freeze</b>"})
    assert r.status_code == 303 and inc.state is IncidentState.ESCALATED
    page = approver.get(f"/ui/incidents/{served.pending}").text
    assert "&lt;b&gt;change freeze&lt;/b&gt;" in page and "<b>change freeze" not in page


def test_garbage_forms_are_client_errors(served: Served) -> None:
    approver = _signed_in(served, Role.APPROVER)
    url = f"/ui/incidents/{served.pending}/approve"
    for body in (b"\xff\xfe\x00", b"csrf=" + b"a" * 20_000, b"%%%", b""):
        r = approver.post(url, content=body,
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert r.status_code == 403, body[:10]
    assert approver.post("/ui/incidents/bad%20id/approve").status_code == 422
