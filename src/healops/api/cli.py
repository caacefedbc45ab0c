"""CLI commands for the server side: ``serve``, ``token``, and the operator commands.

``incidents``, ``show``, ``approve``, ``reject`` and ``runbooks`` talk to a running
``healops serve`` over HTTP (``--url``, ``--token`` or ``HEALOPS_URL``/``HEALOPS_TOKEN``),
so they go through the same authentication and the same lock as the console.
``token create`` writes to the database directly (``--db``): it is how the first token
comes to exist.
"""

# Typer declares options as call defaults; that is its documented idiom.
# ruff: noqa: B008

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from healops.runtime import ConfigReloader

__all__ = ["approve", "incidents", "reject", "reload", "runbooks", "serve", "show", "token_app",
           "token_create", "token_list", "token_revoke"]

_URL = typer.Option("http://127.0.0.1:8080", "--url", envvar="HEALOPS_URL",
                    help="Base URL of a running `healops serve`.")
_TOKEN = typer.Option("", "--token", envvar="HEALOPS_TOKEN",
                      help="API token (viewer to read, approver to approve or reject).")
_LAB_FAULTS = ("slow_dependency", "bad_deploy_errors", "disk_filling", "no_runbook",
               "cert_expiring", "memory_leak", "slow_dependency", "bad_replica")

token_app = typer.Typer(help="API tokens: create, list, revoke.", no_args_is_help=True)
out = Console()
err = Console(stderr=True)


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _call(method: str, url: str, token: str, path: str, **kw: Any) -> Any:
    import httpx

    if not token:
        err.print("no token: pass --token or set HEALOPS_TOKEN (healops token create)")
        raise typer.Exit(2)
    try:
        r = httpx.request(method, url.rstrip("/") + path, timeout=30.0,
                          headers={"Authorization": f"Bearer {token}"}, **kw)
    except httpx.HTTPError as exc:
        err.print(f"cannot reach {url}: {exc}")
        raise typer.Exit(3) from exc
    if r.status_code >= 400:
        try:
            body = r.json()
            msg = body.get("message") or body.get("detail") or r.text
        except ValueError:
            msg = r.text
        err.print(f"{r.status_code}: {msg}")
        raise typer.Exit(1)
    return r.json() if r.content else None


def serve(
    config: Path | None = typer.Option(None, "--config", help="Config file (YAML)."),
    lab: bool = typer.Option(False, "--lab", help="Run against the simulated estate, with "
                             "faults injected on a schedule and a fast simulated clock."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8080, help="Port to listen on."),
    db: str | None = typer.Option(None, "--db", help="SQLAlchemy URL; overrides store_url "
                                  "(lab default: a new SQLite file in a temporary folder)."),
    interval: float = typer.Option(
        5.0, help="Seconds between engine ticks (lab default: 0.1, each 10 simulated s)."),
    seed: int = typer.Option(1, help="Lab only: seed of the estate and the faults."),
    webhook_secret: str | None = typer.Option(
        None, envvar="HEALOPS_WEBHOOK_SECRET",
        help="HMAC secret the ingestion webhooks must be signed with; without it, ingestion "
             "needs an operator token."),
) -> None:
    """Serve the API, the console (/ui) and the engine loop in one process."""
    import uvicorn

    from healops.api.app import create_app
    from healops.api.tokens import Role, TokenStore
    from healops.api.wiring import (
        PageLog,
        UnconfiguredExecutor,
        build_lab_runtime,
        keep_records,
    )
    from healops.bootstrap import bootstrap
    from healops.clock import SystemClock
    from healops.config.load import ConfigError, default_config, load_config
    from healops.itsm.recorder import recording
    from healops.runtime import ConfigReloader, Runtime
    from healops.store.sqlalchemy import SqlAlchemyStore

    try:
        cfg = load_config(config) if config else default_config()
    except ConfigError as exc:
        err.print(str(exc))
        raise typer.Exit(2) from exc
    from_file = cfg
    if lab:
        # A fresh file per run: incident ids restart with the simulation, and a file lets
        # the loop thread and the request threads use their own connections.
        url = db or f"sqlite:///{tempfile.mkdtemp(prefix='healops-lab-')}/lab.db"
        built = build_lab_runtime(
            seed=seed, db_url=url, interval_s=interval if interval != 5.0 else 0.1,
            faults=[(60.0 + 900.0 * i, name, "db" if name == "slow_dependency" else None)
                    for i, name in enumerate(_LAB_FAULTS)], config=cfg)
        runtime, store, pages, engine_cfg = (built.runtime, built.store, built.pages,
                                             built.engine.config)
    else:
        url = db or cfg.store_url
        cfg = cfg.model_copy(update={"store_url": url})
        store = SqlAlchemyStore(url)
        pages = PageLog()
        clock = SystemClock()
        engine = bootstrap(cfg, executor=UnconfiguredExecutor(), pager=pages, store=store,
                           wrap_store=recording(cfg), clock=clock)
        runtime = Runtime(engine, clock=clock, interval_s=interval)
        keep_records(runtime, engine)
        engine_cfg = cfg
    tokens = TokenStore(store.engine)
    if not tokens.list():
        issued = tokens.create(role=Role.ADMIN, name="bootstrap-admin",
                               now=runtime.clock.now())
        err.print("[bold]No API tokens yet; created an admin token (shown once):[/bold]")
        print(issued.token, file=sys.stderr, flush=True)
    reloader = ConfigReloader(runtime, config, from_file) if config else None
    app = create_app(runtime, config=engine_cfg, db=store.engine, tokens=tokens,
                     pages=lambda: (pages.pages, pages.tickets),
                     page_times=lambda: list(pages.times),
                     webhook_secret=webhook_secret or None, expect_loop=True,
                     reloader=reloader)
    if reloader is not None:
        _reload_on_sighup(reloader)
    err.print(f"healops serving on http://{host}:{port}/ui (API: /docs, /openapi.json); "
              f"store {url}{'; lab mode' if lab else ''}")
    runtime.start()
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        runtime.stop()


def _reload_on_sighup(reloader: ConfigReloader) -> None:
    """``kill -HUP`` reloads the config file, as Prometheus and HAProxy do; the reload
    runs on its own thread, never inside the signal handler."""
    import signal
    import threading

    def run() -> None:
        try:
            plan = reloader.reload(by="SIGHUP")
            err.print(f"config reloaded from {reloader.path}: "
                      f"{', '.join(plan.changed) or 'nothing changed'}")
        except ValueError as exc:  # ConfigError and ReloadRefused: nothing was applied
            err.print(f"[red]config not reloaded:[/red] {exc}")

    signal.signal(signal.SIGHUP,
                  lambda signum, frame: threading.Thread(target=run, daemon=True).start())


def reload(url: str = _URL, token: str = _TOKEN) -> None:
    """Reload a running server's config file: policy, runbooks, ITSM (needs an admin token)."""
    r = _call("POST", url, token, "/api/v1/config/reload")
    out.print(f"reloaded {r['source']}: {', '.join(r['changed']) or 'nothing changed'}")


def incidents(
    state: str | None = typer.Option(None, help="Only this state (e.g. awaiting_approval)."),
    service: str | None = typer.Option(None, help="Only this service."),
    priority: str | None = typer.Option(None, help="Only this priority (P1..P5)."),
    url: str = _URL,
    token: str = _TOKEN,
) -> None:
    """List incidents from a running server (over HTTP)."""
    params = {k: v for k, v in {"state": state, "service": service,
                                "priority": priority}.items() if v}
    rows = _call("GET", url, token, "/api/v1/incidents", params=params)
    table = Table(title=f"{len(rows)} incident(s)")
    for col in ("id", "state", "priority", "service", "signature", "opened (UTC)"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["id"], r["state"], r["priority"] or "-", r["service"],
                      r["signature"] or "-", _when(r["opened_at"]))
    out.print(table)


def show(incident_id: str, url: str = _URL, token: str = _TOKEN) -> None:
    """Show one incident: hypotheses, pending action and timeline (over HTTP)."""
    from urllib.parse import quote

    inc = _call("GET", url, token, f"/api/v1/incidents/{quote(incident_id, safe='')}")
    out.print(f"[bold]{inc['id']}[/bold] {inc['state']} on {inc['service']} "
              f"(opened {_when(inc['opened_at'])} UTC)")
    rec = inc.get("record")
    if rec:
        breach = " [red]SLA breached[/red]" if rec["breached"] else ""
        out.print(f"{rec['priority']} · {rec['state']} · {rec['assignment_group'] or '-'} · "
                  f"resolution due {_when(rec['resolution_due_at'])} UTC{breach}")
    if inc["diagnosis"]:
        out.print(f"diagnosis: {inc['diagnosis']}")
    for h in inc["hypotheses"]:
        out.print(f"  - {h['fault']} on {h['target'] or h['component']} "
                  f"({h['confidence']:.0%}) runbook {h['runbook'] or 'none'}")
    for p in inc["pending"]:
        out.print(f"[magenta]awaiting approval:[/magenta] {p['action']} {p['target']} "
                  f"(runbook {p['runbook']}, {p['risk']} risk)")
    if inc.get("changes"):
        changes = Table(title="changes")
        for col in ("change", "kind", "state", "action", "approved by", "outcome"):
            changes.add_column(col)
        for c in inc["changes"]:
            changes.add_row(c["id"], c["kind"], c["state"], f"{c['action']} {c['target']}",
                            c["approved_by"] or "-", c["outcome"] or "-")
        out.print(changes)
    table = Table(title="timeline")
    for col in ("time (UTC)", "kind", "message"):
        table.add_column(col)
    for e in inc["timeline"]:
        table.add_row(_when(e["ts"]), e["kind"], e["message"])
    out.print(table)


def approve(incident_id: str,
            comment: str = typer.Option("", help="Optional note for the timeline."),
            url: str = _URL, token: str = _TOKEN) -> None:
    """Approve an incident's pending action (over HTTP; needs an approver token)."""
    from urllib.parse import quote

    r = _call("POST", url, token, f"/api/v1/incidents/{quote(incident_id, safe='')}/approve",
              json={"comment": comment})
    out.print(f"{r['incident_id']}: {r['verdict']} by {r['by']}; now {r['state']}")


def reject(incident_id: str,
           comment: str = typer.Option(..., help="Why; it goes into the timeline."),
           url: str = _URL, token: str = _TOKEN) -> None:
    """Reject an incident's pending action (over HTTP; needs an approver token)."""
    from urllib.parse import quote

    r = _call("POST", url, token, f"/api/v1/incidents/{quote(incident_id, safe='')}/reject",
              json={"comment": comment})
    out.print(f"{r['incident_id']}: {r['verdict']} by {r['by']}; now {r['state']}")


def runbooks(url: str = _URL, token: str = _TOKEN) -> None:
    """List runbooks and their track record (over HTTP)."""
    rows = _call("GET", url, token, "/api/v1/runbooks")
    table = Table(title="runbooks")
    for col in ("name", "fault", "risk", "steps", "verified ok", "failed"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["name"], r["fault"], r["risk"],
                      " -> ".join(s["action"] for s in r["steps"]),
                      str(r["successes"]), str(r["failures"]))
    out.print(table)


def _token_store(db: str) -> Any:
    from healops.api.tokens import TokenStore
    from healops.store.sqlalchemy import make_engine

    return TokenStore(make_engine(db))


@token_app.command("create")
def token_create(
    role: str = typer.Option(..., help="viewer, operator, approver or admin."),
    name: str = typer.Option("cli", help="Who or what the token is for."),
    db: str = typer.Option(..., "--db", help="The server's SQLAlchemy URL (sqlite:///…)."),
) -> None:
    """Create a token in the database and print it once (only its hash is stored)."""
    from healops.api.tokens import Role
    from healops.clock import SystemClock

    try:
        r = Role(role)
    except ValueError:
        err.print(f"unknown role {role!r}; use one of {', '.join(x.value for x in Role)}")
        raise typer.Exit(2) from None
    try:
        issued = _token_store(db).create(role=r, name=name, now=SystemClock().now())
    except ValueError as exc:
        err.print(str(exc))
        raise typer.Exit(2) from None
    err.print(f"token {issued.info.id} ({r}) for {name}; store it now, it is not shown again:")
    print(issued.token)


@token_app.command("list")
def token_list(db: str = typer.Option(..., "--db", help="The server's SQLAlchemy URL.")
               ) -> None:
    """List tokens (never their secrets)."""
    table = Table(title="API tokens")
    for col in ("id", "name", "role", "created (UTC)", "revoked"):
        table.add_column(col)
    for t in _token_store(db).list():
        table.add_row(t.id, t.name, str(t.role), _when(t.created_at), _when(t.revoked_at))
    out.print(table)


@token_app.command("revoke")
def token_revoke(token_id: str,
                 db: str = typer.Option(..., "--db", help="The server's SQLAlchemy URL.")
                 ) -> None:
    """Revoke a token by its id; it stops working at once."""
    from healops.clock import SystemClock

    if not _token_store(db).revoke(token_id, now=SystemClock().now()):
        err.print(f"no live token {token_id!r}")
        raise typer.Exit(1)
    out.print(f"revoked {token_id}")
