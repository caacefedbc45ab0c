"""The JSON API: incidents, approvals, runbooks, policies, services, dashboard, tokens,
silences, and the ITSM records (changes, problems, audit log), read-only.

Thin: each route checks the caller's role, asks ``Views`` or the ``Runtime``, and shapes
the answer. Unknown ids are 404, an approval of an incident that is not waiting is 409.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.exceptions import RequestValidationError

from healops.api.auth import REQUIRE, ApiError, Principal, guard
from healops.api.schemas import (
    ApprovalIn,
    ApprovalOut,
    AuditEntryOut,
    AuditVerifyOut,
    ChangeOut,
    ConfigReloadOut,
    DashboardOut,
    ErrorOut,
    IncidentDetail,
    IncidentSummary,
    ProblemOut,
    RejectIn,
    RunbookOut,
    ServiceOut,
    SilenceIn,
    SilenceOut,
    TimelineEntryOut,
    TokenCreated,
    TokenIn,
    TokenOut,
)
from healops.api.tokens import Role, TokenInfo, TokenStore
from healops.api.views import Views
from healops.config.load import ConfigError
from healops.config.models import PolicyConfig
from healops.config.reload import ReloadRefused
from healops.correlate.silences import Silence, SilenceError, SilenceMuter
from healops.domain.incidents import IncidentState
from healops.runtime import ConfigReloader

__all__ = ["create_api_router"]

ChangeState = Literal["awaiting_approval", "scheduled", "implementing", "review", "closed",
                      "rejected", "canceled"]
RecordId = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")]
IncidentId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
SilenceId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
SilenceState = Literal["pending", "active", "expired"]
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "the body could not be parsed"},
    401: {"model": ErrorOut, "description": "no valid token"},
    403: {"model": ErrorOut, "description": "the token's role is too low"},
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "no such incident"}}
_CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorOut, "description": "the incident is not awaiting approval"}}


_RELOAD_ERRORS: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorOut, "description": "no config file, or a change needs a restart"},
    422: {"model": ErrorOut, "description": "the file does not validate; nothing changed"}}


def _views(request: Request) -> Views:
    views: Views = request.app.state.views
    return views


def _token_out(t: TokenInfo) -> TokenOut:
    return TokenOut(id=t.id, name=t.name, role=t.role, created_at=t.created_at,
                    revoked_at=t.revoked_at)


def create_api_router() -> APIRouter:
    router = APIRouter(prefix="/api/v1", responses=_ERRORS)

    @router.get("/incidents", tags=["incidents"], **guard(Role.VIEWER))
    def list_incidents(
        request: Request,
        state: Annotated[IncidentState | None, Query()] = None,
        service: Annotated[str | None, Query(max_length=100)] = None,
        priority: Annotated[str | None, Query(pattern=r"^P[1-5]$")] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
        offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    ) -> list[IncidentSummary]:
        """Incidents, newest first, filtered by state, service and priority."""
        return _views(request).incidents(state=state.value if state else None,
                                         service=service, priority=priority,
                                         limit=limit, offset=offset)

    @router.get("/incidents/{incident_id}", tags=["incidents"], responses=_NOT_FOUND,
                **guard(Role.VIEWER))
    def get_incident(request: Request, incident_id: IncidentId) -> IncidentDetail:
        """One incident with its hypotheses, pending steps, decisions, actions and timeline."""
        detail = _views(request).incident(incident_id)
        if detail is None:
            raise _no_incident(incident_id)
        return detail

    @router.get("/incidents/{incident_id}/timeline", tags=["incidents"],
                responses=_NOT_FOUND, **guard(Role.VIEWER))
    def get_timeline(request: Request, incident_id: IncidentId) -> list[TimelineEntryOut]:
        """Every transition, diagnosis, decision and action of the incident, in order."""
        entries = _views(request).timeline(incident_id)
        if entries is None:
            raise _no_incident(incident_id)
        return entries

    @router.post("/incidents/{incident_id}/approve", tags=["approvals"],
                 responses={**_NOT_FOUND, **_CONFLICT}, **guard(Role.APPROVER))
    def approve(request: Request, incident_id: IncidentId,
                principal: Annotated[Principal, Depends(REQUIRE[Role.APPROVER])],
                body: ApprovalIn | None = None) -> ApprovalOut:
        """Approve the incident's pending action; the engine runs it at once."""
        return _decide(request, incident_id, principal, "approve",
                       body.comment if body else "")

    @router.post("/incidents/{incident_id}/reject", tags=["approvals"],
                 responses={**_NOT_FOUND, **_CONFLICT}, **guard(Role.APPROVER))
    def reject(request: Request, incident_id: IncidentId, body: RejectIn,
               principal: Annotated[Principal, Depends(REQUIRE[Role.APPROVER])]
               ) -> ApprovalOut:
        """Reject the pending action with a comment; the incident is escalated to a human."""
        return _decide(request, incident_id, principal, "reject", body.comment)

    @router.get("/runbooks", tags=["config"], **guard(Role.VIEWER))
    def runbooks(request: Request) -> list[RunbookOut]:
        """The runbooks in force, with their verified successes and failures."""
        return _views(request).runbooks()

    @router.get("/policies", tags=["config"], **guard(Role.VIEWER))
    def policies(request: Request) -> PolicyConfig:
        """The policy in force: gates per risk, rate limits, blast radius, freeze windows."""
        return _views(request).config.policy

    @router.get("/services", tags=["services"], **guard(Role.VIEWER))
    def services(request: Request) -> list[ServiceOut]:
        """The services, their dependencies and their health from the active incidents."""
        return _views(request).services()

    @router.get("/dashboard", tags=["services"], **guard(Role.VIEWER))
    def dashboard(request: Request) -> DashboardOut:
        """MTTD, MTTR, auto-resolution rate, pages and tickets."""
        return _views(request).dashboard()

    @router.get("/changes", tags=["itsm"], **guard(Role.VIEWER))
    def list_changes(
        request: Request,
        incident_id: Annotated[str | None, Query(max_length=64)] = None,
        state: Annotated[ChangeState | None, Query()] = None,
        kind: Annotated[Literal["standard", "normal"] | None, Query()] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
        offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    ) -> list[ChangeOut]:
        """Change records, newest first: one for every automated action."""
        return _views(request).changes(incident_id=incident_id, state=state, kind=kind,
                                       limit=limit, offset=offset)

    @router.get("/changes/{change_id}", tags=["itsm"],
                responses={404: {"model": ErrorOut, "description": "no such change"}},
                **guard(Role.VIEWER))
    def get_change(request: Request, change_id: RecordId) -> ChangeOut:
        """One change record."""
        change = _views(request).change(change_id)
        if change is None:
            raise ApiError(404, "not_found", f"no change {change_id!r}; see GET /changes")
        return change

    @router.get("/problems", tags=["itsm"], **guard(Role.VIEWER))
    def list_problems(
        request: Request,
        state: Annotated[Literal["open", "known_error", "resolved", "closed"] | None,
                         Query()] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
        offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    ) -> list[ProblemOut]:
        """Problem records opened for recurring incidents, with their known-error notes."""
        return _views(request).problems(state=state, limit=limit, offset=offset)

    @router.get("/problems/{problem_id}", tags=["itsm"],
                responses={404: {"model": ErrorOut, "description": "no such problem"}},
                **guard(Role.VIEWER))
    def get_problem(request: Request, problem_id: RecordId) -> ProblemOut:
        """One problem record."""
        problem = _views(request).problem(problem_id)
        if problem is None:
            raise ApiError(404, "not_found", f"no problem {problem_id!r}; see GET /problems")
        return problem

    @router.get("/audit", tags=["itsm"], **guard(Role.OPERATOR))
    def audit(
        request: Request,
        subject: Annotated[str | None, Query(max_length=200)] = None,
        kind: Annotated[str | None, Query(max_length=64)] = None,
        after_seq: Annotated[int, Query(ge=0, le=1 << 53)] = 0,
        limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    ) -> list[AuditEntryOut]:
        """Audit entries in chain order, oldest first, from ``after_seq`` on."""
        return _views(request).audit(subject=subject, kind=kind, after_seq=after_seq,
                                     limit=limit)

    @router.get("/audit/verify", tags=["itsm"], **guard(Role.OPERATOR))
    def audit_verify(request: Request) -> AuditVerifyOut:
        """Check the hash chain: a modified, deleted or reordered entry is reported."""
        return _views(request).verify_audit()

    @router.post("/config/reload", tags=["config"], responses=_RELOAD_ERRORS,
                 **guard(Role.ADMIN))
    def reload_config(request: Request,
                      principal: Annotated[Principal, Depends(REQUIRE[Role.ADMIN])]
                      ) -> ConfigReloadOut:
        """Re-read the config file the server started with and apply its policy, runbooks
        and ITSM rules between two ticks; the change is audited. Anything else that
        changed needs a restart, and then nothing is applied."""
        reloader: ConfigReloader | None = request.app.state.reloader
        if reloader is None:
            raise ApiError(409, "no_config_file",
                           "the server was started without --config; there is no file to "
                           "reload (restart it with `healops serve --config FILE`)")
        try:
            plan = reloader.reload(by=principal.name)
        except ConfigError as exc:
            raise ApiError(422, "invalid_config", str(exc)) from exc
        except ReloadRefused as exc:
            raise ApiError(409, "restart_required", str(exc)) from exc
        return ConfigReloadOut(source=str(reloader.path), changed=plan.changed)

    @router.get("/silences", tags=["silences"], **guard(Role.VIEWER))
    def list_silences(request: Request,
                      state: Annotated[SilenceState | None, Query()] = None
                      ) -> list[SilenceOut]:
        """Every silence, from the config file and made here, with its state now. Those
        made here are saved in the store and outlive a restart."""
        now = request.app.state.clock.now()
        out = [_silence_out(s, now) for s in _silences(request).list()]
        return [s for s in out if state is None or s.state == state]

    @router.post("/silences", tags=["silences"], status_code=201, **guard(Role.OPERATOR))
    def create_silence(request: Request, body: SilenceIn,
                       principal: Annotated[Principal, Depends(REQUIRE[Role.OPERATOR])]
                       ) -> SilenceOut:
        """Silence the anomalies that match every matcher: from the next tick they open and
        feed no incident until the silence ends. Audited."""
        runtime = request.app.state.runtime
        with runtime.lock:
            now = runtime.clock.now()
            starts = now if body.starts_at is None else body.starts_at
            if body.ends_at is not None and body.duration_s is None:
                ends, end_field = body.ends_at, "ends_at"
            elif body.duration_s is not None and body.ends_at is None:
                ends, end_field = starts + body.duration_s, "duration_s"
            else:
                raise _invalid("ends_at", "give either ends_at or duration_s (seconds from "
                               "starts_at), exactly one of the two", body.ends_at)
            try:
                silence = _silences(request).add(
                    body.matchers, starts_at=starts, ends_at=ends, now=now,
                    created_by=principal.name, comment=body.comment)
            except SilenceError as exc:
                field = end_field if exc.field == "ends_at" else exc.field
                raise _invalid(field, str(exc), getattr(body, field, None)) from exc
            _audit(request, silence, "created", by=principal.name, now=now)
        return _silence_out(silence, now)

    @router.delete("/silences/{silence_id}", tags=["silences"],
                   responses={404: {"model": ErrorOut, "description": "no such silence"}},
                   **guard(Role.OPERATOR))
    def expire_silence(request: Request, silence_id: SilenceId,
                       principal: Annotated[Principal, Depends(REQUIRE[Role.OPERATOR])]
                       ) -> SilenceOut:
        """Expire a silence now: it stops muting from the next tick. Expiring an expired
        silence changes nothing. Audited."""
        runtime = request.app.state.runtime
        with runtime.lock:
            now = runtime.clock.now()
            muter = _silences(request)
            before = muter.get(silence_id)
            if before is None:
                raise ApiError(404, "not_found", f"no silence {silence_id!r}; list them with "
                               "GET /api/v1/silences")
            silence = muter.expire(silence_id, now) or before
            if before.state(now) != "expired":
                _audit(request, silence, "expired", by=principal.name, now=now)
        return _silence_out(silence, now)

    @router.get("/tokens", tags=["tokens"], **guard(Role.ADMIN))
    def list_tokens(request: Request) -> list[TokenOut]:
        """Every API token (never the secret): id, name, role, created, revoked."""
        return [_token_out(t) for t in _token_store(request).list()]

    @router.post("/tokens", tags=["tokens"], status_code=201, **guard(Role.ADMIN))
    def create_token(request: Request, body: TokenIn) -> TokenCreated:
        """Create a token. The response is the only time the token is shown."""
        issued = _token_store(request).create(role=body.role, name=body.name,
                                              now=request.app.state.clock.now())
        return TokenCreated(**_token_out(issued.info).model_dump(), token=issued.token)

    @router.delete("/tokens/{token_id}", tags=["tokens"], status_code=204,
                   responses={404: {"model": ErrorOut, "description": "no such live token"}},
                   **guard(Role.ADMIN))
    def revoke_token(request: Request,
                     token_id: Annotated[str, Path(pattern=r"^[0-9a-f]{12}$")]) -> None:
        """Revoke a token; it stops working at once."""
        if not _token_store(request).revoke(token_id, now=request.app.state.clock.now()):
            raise ApiError(404, "not_found", f"no live token {token_id!r}; see GET /tokens")

    return router


def _token_store(request: Request) -> TokenStore:
    tokens: TokenStore = request.app.state.tokens
    return tokens


def _silences(request: Request) -> SilenceMuter:
    muter: SilenceMuter = request.app.state.runtime.engine.silences
    return muter


def _silence_out(s: Silence, now: float) -> SilenceOut:
    return SilenceOut(id=s.id, matchers=[str(m) for m in s.matchers], starts_at=s.starts_at,
                      ends_at=s.ends_at, created_by=s.created_by, comment=s.comment,
                      state=s.state(now))


def _invalid(field: str, message: str, value: object) -> RequestValidationError:
    """A 422 shaped like FastAPI's own, naming the body field at fault."""
    return RequestValidationError([{"type": "value_error", "loc": ("body", field),
                                    "msg": message, "input": value}])


def _audit(request: Request, s: Silence, what: str, *, by: str, now: float) -> None:
    audit = getattr(request.app.state.runtime.engine.store, "audit", None)
    if audit is not None:
        audit(ts=now, actor=by, kind="silence", subject=s.id,
              data={"event": what, "matchers": [str(m) for m in s.matchers],
                    "starts_at": s.starts_at, "ends_at": s.ends_at, "comment": s.comment})


def _no_incident(incident_id: str) -> ApiError:
    return ApiError(404, "not_found",
                    f"no incident {incident_id!r}; list them with GET /api/v1/incidents")


def _decide(request: Request, incident_id: str, principal: Principal, verdict: str,
            comment: str) -> ApprovalOut:
    views = _views(request)
    rec = views.queries.incident(incident_id)
    if rec is None and incident_id not in views.engine.incidents:
        raise _no_incident(incident_id)
    runtime = views.runtime
    by = principal.name + (f": {comment}" if comment and verdict == "approve" else "")
    done = (runtime.approve(incident_id, by=by) if verdict == "approve"
            else runtime.reject(incident_id, by=principal.name, comment=comment))
    if not done:
        raise ApiError(409, "not_awaiting_approval",
                       f"incident {incident_id} is not awaiting approval; "
                       "only a pending action can be approved or rejected")
    inc = views.engine.incidents[incident_id]
    past = {"approve": "approved", "reject": "rejected"}[verdict]
    return ApprovalOut(incident_id=incident_id, verdict=past, by=principal.name,
                       state=str(inc.state))
