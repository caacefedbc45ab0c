"""The FastAPI app factory: the JSON API, ingestion, health, metrics and the console.

``create_app(runtime, ...)`` takes everything it serves; nothing connects at import time.
OpenAPI is at ``/openapi.json`` and a readable index of it at ``/docs`` (rendered here, so
no third-party JavaScript is loaded).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.routing import APIRoute
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.engine import Engine as SqlEngine
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from healops import __version__
from healops.api.auth import PUBLIC, REQUIRE, ROLE_KEY, WEBHOOK, ApiError
from healops.api.ingest import create_ingest_router
from healops.api.metrics import register_runtime_metrics
from healops.api.routes import create_api_router
from healops.api.schemas import HealthOut
from healops.api.tokens import Role, TokenStore
from healops.api.views import Views
from healops.config.models import HealopsConfig
from healops.runtime import ConfigReloader, Runtime
from healops.store.itsm_repo import ItsmRepository
from healops.store.queries import IncidentQueries

__all__ = ["api_routes", "create_app", "route_role"]

_INGEST_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"description": what, "content": {"application/json": {"schema": {
        "type": "object", "required": ["error", "message"],
        "properties": {"error": {"type": "string"}, "message": {"type": "string"},
                       "problems": {"type": "array", "items": {"type": "object"}}}}}}}
    for code, what in ((400, "malformed body"), (401, "missing or bad signature or token"),
                       (403, "the token's role is too low"), (413, "body too large"),
                       (415, "unsupported media type"), (422, "invalid payload"),
                       (503, "the signal sink failed"))
}


def _ingest_bodies() -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """OpenAPI request bodies of the ingestion routes, from the models that parse them."""
    from healops.api.ingest import SamplesPayload
    from healops.observe.alertmanager import AlertmanagerWebhook
    from healops.observe.events import EventsPayload
    from healops.observe.logs import LogLinesPayload

    ref = "#/components/schemas/{model}"
    defs: dict[str, Any] = {}
    bodies: dict[str, dict[str, Any]] = {}
    for path, model, also in (
            ("/api/v1/alerts/alertmanager", AlertmanagerWebhook, ""),
            ("/api/v1/events", EventsPayload, ""),
            ("/api/v1/logs", LogLinesPayload,
             " Also accepts text/plain lines with ?service=<name>."),
            ("/api/v1/samples", SamplesPayload,
             " Also accepts Prometheus exposition text (text/plain).")):
        schema = model.model_json_schema(ref_template=ref, by_alias=True)
        if model is LogLinesPayload:
            # A bare string line is a message, and a message cannot be empty.
            for item in schema["properties"]["lines"]["items"]["anyOf"]:
                if item.get("type") == "string":
                    item["minLength"] = 1
        defs.update(schema.pop("$defs", {}))
        defs[model.__name__] = schema
        bodies[path] = {"required": True, "description": (model.__doc__ or "").strip() + also,
                        "content": {"application/json": {"schema": {
                            "$ref": ref.format(model=model.__name__)}}}}
    return bodies, defs


def api_routes(app: FastAPI | APIRouter) -> list[APIRoute]:
    """Every ``APIRoute`` served, including those of included routers."""
    out: list[APIRoute] = []
    for route in app.routes:
        if isinstance(route, APIRoute):
            out.append(route)
        inner = getattr(route, "original_router", None)  # FastAPI >= 0.16x includes lazily
        if isinstance(inner, APIRouter):
            out.extend(api_routes(inner))
    return out


def route_role(route: APIRoute) -> str:
    """The least role a route needs, as declared on it (``public`` and ``webhook`` too)."""
    extra = route.openapi_extra or {}
    role = extra.get(ROLE_KEY)
    if not isinstance(role, str):
        raise LookupError(f"route {route.path} declares no role")
    return role


def create_app(
    runtime: Runtime,
    *,
    config: HealopsConfig,
    db: SqlEngine,
    tokens: TokenStore | None = None,
    pages: Callable[[], tuple[int, int]] = lambda: (0, 0),
    webhook_secret: str | SecretStr | None = None,
    registry: CollectorRegistry | None = None,
    expect_loop: bool = False,
    console: bool = True,
    itsm: ItsmRepository | None = None,
    page_times: Callable[[], Sequence[float]] = lambda: (),
    reloader: ConfigReloader | None = None,
) -> FastAPI:
    """Build the app around a runtime and the database its store writes to.

    ``expect_loop``: ``/readyz`` fails while the runtime's background loop is not running
    (true for ``healops serve``; tests that tick by hand leave it false).
    """
    registry = registry if registry is not None else CollectorRegistry()
    tokens = tokens if tokens is not None else TokenStore(db)
    queries = IncidentQueries(db)
    app = FastAPI(title="healops", version=__version__, docs_url=None, redoc_url=None,
                  description="The healops API: ingestion, incidents, approvals, runbooks, "
                  "policies, services and tokens. Send `Authorization: Bearer <token>`.")
    app.state.tokens = tokens
    app.state.clock = runtime.clock
    app.state.runtime = runtime
    app.state.views = Views(runtime, queries, config, pages,
                            itsm if itsm is not None else ItsmRepository(db), page_times)
    app.state.reloader = reloader
    if reloader is not None:
        reloader.on_reload(lambda running: setattr(app.state.views, "config", running))
    register_runtime_metrics(registry, runtime, queries, pages)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse({"error": exc.error, "message": exc.message},
                            status_code=exc.status, headers=exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            # Starlette lists the methods of the first route on the path only.
            scope = {"type": "http", "path": request.url.path, "method": "GET"}
            allowed = {m for r in api_routes(app) if r.matches({**scope})[0] is not Match.NONE
                       for m in (r.methods or ())}
            headers["Allow"] = ", ".join(sorted(allowed))
        error = str(exc.detail).lower().replace(" ", "_")
        return JSONResponse({"error": error, "message": str(exc.detail)},
                            status_code=exc.status_code, headers=headers)

    ingest = create_ingest_router(runtime.buffer.put, registry=registry, clock=runtime.clock,
                                  secret=webhook_secret)
    bodies, body_defs = _ingest_bodies()
    for route in api_routes(ingest):
        route.openapi_extra = {ROLE_KEY: WEBHOOK, "requestBody": bodies[route.path]}
        route.responses.update(_INGEST_ERRORS)
    app.include_router(ingest, dependencies=[] if webhook_secret else
                       [Depends(REQUIRE[Role.OPERATOR])])
    app.include_router(create_api_router())

    @app.get("/healthz", tags=["health"], openapi_extra={ROLE_KEY: PUBLIC})
    def healthz() -> HealthOut:
        """Liveness: the process answers."""
        return HealthOut(status="ok")

    @app.get("/readyz", tags=["health"], openapi_extra={ROLE_KEY: PUBLIC},
             responses={503: {"model": HealthOut, "description": "not ready"}})
    def readyz() -> Any:
        """Readiness: the database answers and, when expected, the loop is running."""
        checks: dict[str, str] = {}
        try:
            with db.connect() as conn:
                conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:  # any driver error means not ready
            checks["database"] = f"failed: {type(exc).__name__}"
        if expect_loop:
            checks["loop"] = "ok" if runtime.running else "not running"
        if runtime.last_error:
            checks["last_error"] = runtime.last_error
        ok = checks["database"] == "ok" and checks.get("loop", "ok") == "ok"
        body = HealthOut(status="ok" if ok else "unavailable", checks=checks)
        return body if ok else JSONResponse(body.model_dump(), status_code=503)

    @app.get("/metrics", tags=["health"], openapi_extra={ROLE_KEY: PUBLIC},
             response_class=Response,
             responses={200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {}},
                              "description": "Prometheus text exposition"}})
    def metrics() -> Response:
        """Prometheus metrics for healops itself."""
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/docs", include_in_schema=False, openapi_extra={ROLE_KEY: PUBLIC})
    def docs() -> HTMLResponse:
        from healops.web.pages import render_api_index

        return HTMLResponse(render_api_index(app.openapi()))

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = get_openapi(title=app.title, version=app.version,
                              description=app.description, routes=app.routes)
            doc.setdefault("components", {}).setdefault("schemas", {}).update(body_defs)
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    if console:
        from healops.web.console import create_console_router

        app.include_router(create_console_router())
    return app
