"""The operator console under ``/ui``: queue, incident detail, services map, runbooks,
dashboard, and the approve/reject buttons.

Signing in stores the API token in an HttpOnly, SameSite=Strict cookie; every form also
carries a per-session CSRF token. Pages need the viewer role, approving needs approver.
"""

from __future__ import annotations

from importlib import resources
from typing import Annotated, Any
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from healops.api.auth import COOKIE, PUBLIC, ROLE_KEY, Principal, csrf_token, principal_of
from healops.api.tokens import Role
from healops.api.views import Views
from healops.domain.incidents import IncidentState
from healops.web.pages import render
from healops.web.svg import HEALTH_COLOURS, bar_chart, line_chart, services_map

__all__ = ["create_console_router"]

_MAX_FORM = 16_384
_STATIC = {"app.css": "text/css; charset=utf-8", "app.js": "text/javascript; charset=utf-8"}
_CHARTS = (("error_ratio", "error ratio", ""), ("latency_p99_ms", "p99 latency", " ms"))
_ACTIVITY = (("opened", "incidents opened", "#546e7a"),
             ("auto_resolved", "resolved by automation", "#2e7d32"),
             ("escalated", "tickets (escalations)", "#c62828"),
             ("pages", "pages", "#6a1b9a"))
IncidentId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


class _Deny(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


def _role(role: Role | str) -> dict[str, Any]:
    return {"include_in_schema": False, "openapi_extra": {ROLE_KEY: str(role)},
            "response_class": HTMLResponse}


def _views(request: Request) -> Views:
    views: Views = request.app.state.views
    return views


def _page(template: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    return HTMLResponse(render(template, **ctx), status_code=status,
                        headers={"Cache-Control": "no-store",
                                 "Content-Security-Policy": "default-src 'self'; "
                                 "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
                                 "X-Content-Type-Options": "nosniff"})


def _session(request: Request, role: Role) -> tuple[Principal, str]:
    token = request.cookies.get(COOKIE, "")
    principal = principal_of(request, token)
    if principal is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise _Deny(RedirectResponse(f"/ui/login?next={quote(target, safe='')}",
                                     status_code=303))
    if not principal.role >= role:
        raise _Deny(_page("error.html", 403, title="Not allowed", principal=principal,
                          csrf=csrf_token(token),
                          message=f"This needs the {role} role; your token has "
                                  f"{principal.role}."))
    return principal, csrf_token(token)


async def _form(request: Request) -> dict[str, str]:
    body = await request.body()
    if len(body) > _MAX_FORM:
        return {}
    try:
        fields = parse_qs(body.decode("utf-8"), max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        return {}
    return {k: v[0] for k, v in fields.items()}


def _safe_next(target: str) -> str:
    # Only our own console paths: never an absolute or protocol-relative URL.
    if target.startswith("/ui/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/ui/incidents"


def create_console_router() -> APIRouter:
    router = APIRouter(prefix="/ui")

    def guarded(request: Request, role: Role,
                build: Any) -> Response:
        try:
            principal, csrf = _session(request, role)
        except _Deny as deny:
            return deny.response
        result: Response = build(principal, csrf)
        return result

    @router.get("/static/{name}", name="console_static", **_role(PUBLIC))
    def static(name: Annotated[str, Path(pattern=r"^[a-z]+\.(css|js)$")]) -> Response:
        if name not in _STATIC:
            return Response("not found", status_code=404, media_type="text/plain")
        data = (resources.files("healops.web") / "static" / name).read_bytes()
        return Response(data, media_type=_STATIC[name],
                        headers={"Cache-Control": "max-age=300"})

    @router.get("/login", name="console_login_form", **_role(PUBLIC))
    def login_form(next: Annotated[str, Query(max_length=500)] = "/ui/incidents"
                   ) -> Response:
        return _page("login.html", title="Sign in", principal=None, csrf="", error="",
                     next=_safe_next(next))

    @router.post("/login", name="console_login", **_role(PUBLIC))
    async def login(request: Request) -> Response:
        form = await _form(request)
        token = form.get("token", "").strip()
        target = _safe_next(form.get("next", "/ui/incidents"))
        if principal_of(request, token) is None:
            return _page("login.html", 401, title="Sign in", principal=None, csrf="",
                         error="That token is not valid (or was revoked).", next=target)
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(COOKIE, token, httponly=True, samesite="strict",
                            secure=request.url.scheme == "https", path="/",
                            max_age=12 * 3600)
        return response

    @router.post("/logout", name="console_logout", **_role(PUBLIC))
    async def logout(request: Request) -> Response:
        response = RedirectResponse("/ui/login", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    @router.get("", name="console_home", **_role(PUBLIC))
    def home() -> Response:
        return RedirectResponse("/ui/incidents", status_code=303)

    @router.get("/incidents", name="console_queue", **_role(Role.VIEWER))
    def queue(request: Request,
              state: Annotated[str, Query(max_length=40)] = "",
              service: Annotated[str, Query(max_length=100)] = "") -> Response:
        def build(principal: Principal, csrf: str) -> Response:
            views = _views(request)
            known_state = state if state in {s.value for s in IncidentState} else ""
            incidents = views.incidents(state=known_state or None, service=service or None)
            return _page("incidents.html", title="Incidents", principal=principal, csrf=csrf,
                         incidents=incidents, state=known_state, service=service,
                         states=[s.value for s in IncidentState],
                         services=[s.name for s in views.config.topology.services],
                         refresh=5)
        return guarded(request, Role.VIEWER, build)

    @router.get("/incidents/{incident_id}", name="console_incident", **_role(Role.VIEWER))
    def incident(request: Request, incident_id: IncidentId,
                 flash: Annotated[str, Query(max_length=200)] = "") -> Response:
        def build(principal: Principal, csrf: str) -> Response:
            views = _views(request)
            inc = views.incident(incident_id)
            if inc is None:
                return _page("error.html", 404, title="No such incident", principal=principal,
                             csrf=csrf, message=f"There is no incident {incident_id}.")
            marks = [(inc.opened_at, "incident opened")]
            if inc.resolved_at:
                marks.append((inc.resolved_at, "resolved"))
            marks += [(a.intent_at, f"{a.action} {a.target}") for a in inc.actions]
            charts = [line_chart([(p.ts, p.value) for p in views.sli(svc, metric)],
                                 title=f"{svc}: {label}", unit=unit, marks=marks)
                      for svc in [inc.service, *[s for s in inc.services if s != inc.service]][:3]
                      for metric, label, unit in _CHARTS]
            return _page("incident.html", title=inc.id, principal=principal, csrf=csrf,
                         inc=inc, charts=charts, flash=flash,
                         can_approve=principal.role >= Role.APPROVER,
                         refresh=0 if inc.pending else 10)
        return guarded(request, Role.VIEWER, build)

    async def decide(request: Request, incident_id: str, verdict: str) -> Response:
        try:
            principal, csrf = _session(request, Role.APPROVER)
        except _Deny as deny:
            return deny.response
        form = await _form(request)
        if form.get("csrf", "") != csrf:
            return _page("error.html", 403, title="Form expired", principal=principal,
                         csrf=csrf, message="The form's CSRF token does not match your "
                         "session; reload the page and try again.")
        comment = form.get("comment", "").strip()[:2000]
        views = _views(request)
        if views.queries.incident(incident_id) is None:
            return _page("error.html", 404, title="No such incident", principal=principal,
                         csrf=csrf, message=f"There is no incident {incident_id}.")
        if verdict == "reject" and not comment:
            return _page("error.html", 400, title="Comment needed", principal=principal,
                         csrf=csrf, message="Say why you reject the action; the comment "
                         "goes into the incident's timeline.")
        if verdict == "approve":
            done = views.runtime.approve(
                incident_id, by=principal.name + (f": {comment}" if comment else ""))
        else:
            done = views.runtime.reject(incident_id, by=principal.name, comment=comment)
        if not done:
            return _page("error.html", 409, title="Nothing to decide", principal=principal,
                         csrf=csrf, message=f"Incident {incident_id} is not awaiting "
                         "approval any more; someone or something got there first.")
        flash = "Approved: the action runs now." if verdict == "approve" else \
            "Rejected: the incident is escalated to a human."
        return RedirectResponse(f"/ui/incidents/{incident_id}?flash={quote(flash)}",
                                status_code=303)

    @router.post("/incidents/{incident_id}/approve", name="console_approve",
                 **_role(Role.APPROVER))
    async def approve(request: Request, incident_id: IncidentId) -> Response:
        return await decide(request, incident_id, "approve")

    @router.post("/incidents/{incident_id}/reject", name="console_reject",
                 **_role(Role.APPROVER))
    async def reject(request: Request, incident_id: IncidentId) -> Response:
        return await decide(request, incident_id, "reject")

    @router.get("/services", name="console_services", **_role(Role.VIEWER))
    def services(request: Request) -> Response:
        def build(principal: Principal, csrf: str) -> Response:
            svcs = _views(request).services()
            svg = services_map([(s.name, s.depends_on, s.health) for s in svcs])
            return _page("services.html", title="Services", principal=principal, csrf=csrf,
                         services=svcs, map=svg, colours=HEALTH_COLOURS, refresh=10)
        return guarded(request, Role.VIEWER, build)

    @router.get("/runbooks", name="console_runbooks", **_role(Role.VIEWER))
    def runbooks(request: Request) -> Response:
        def build(principal: Principal, csrf: str) -> Response:
            views = _views(request)
            return _page("runbooks.html", title="Runbooks", principal=principal, csrf=csrf,
                         runbooks=views.runbooks(), policy=views.config.policy)
        return guarded(request, Role.VIEWER, build)

    @router.get("/problems", name="console_problems", **_role(Role.VIEWER))
    def problems(request: Request) -> Response:
        def build(principal: Principal, csrf: str) -> Response:
            return _page("problems.html", title="Problems", principal=principal, csrf=csrf,
                         problems=_views(request).problems())
        return guarded(request, Role.VIEWER, build)

    @router.get("/dashboard", name="console_dashboard", **_role(Role.VIEWER))
    def dashboard(request: Request) -> Response:
        def build(principal: Principal, csrf: str) -> Response:
            d = _views(request).dashboard()
            charts = [bar_chart([(b.start, getattr(b, field)) for b in d.activity],
                                title=f"{label} per hour", colour=colour)
                      for field, label, colour in _ACTIVITY]
            return _page("dashboard.html", title="Dashboard", principal=principal, csrf=csrf,
                         d=d, charts=charts, refresh=15)
        return guarded(request, Role.VIEWER, build)

    return router
