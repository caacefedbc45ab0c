"""``healops audit verify`` and ``healops postmortem ID``: thin commands over the store."""

from __future__ import annotations

import typer
from rich.console import Console

__all__ = ["audit_app", "postmortem", "register"]

audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)

_DB = typer.Option("sqlite:///var/healops.db", "--db", help="SQLAlchemy URL of the store.")


@audit_app.command("verify")
def audit_verify(db: str = _DB) -> None:
    """Check that no audit entry was modified, deleted or reordered."""
    from healops.store.itsm_repo import ItsmRepository

    console = Console()
    report = ItsmRepository.from_url(db).verify_audit()
    if report.ok:
        console.print(f"[green]audit log intact[/green]: {report.entries} entries, "
                      f"head {report.head[:16]}")
        return
    console.print(f"[bold red]audit log TAMPERED[/bold red]: {len(report.problems)} "
                  f"problem(s) in {report.entries} entries")
    for p in report.problems:
        console.print(f"  - {p}", markup=False, highlight=False)
    raise typer.Exit(1)


def postmortem(incident_id: str = typer.Argument(..., help="The incident id."),
               db: str = _DB,
               out: str = typer.Option("", help="Write the Markdown here instead.")) -> None:
    """Draft a postmortem (Markdown) from the incident's timeline and records."""
    from pathlib import Path

    from healops.itsm.postmortem import PostmortemInput, render_postmortem
    from healops.store.itsm_repo import ItsmRepository
    from healops.store.sqlalchemy import SqlAlchemyStore

    store = SqlAlchemyStore(db)
    repo = ItsmRepository(store.engine)
    tl = store.timeline(incident_id)
    rec = repo.get_incident_record(incident_id)
    if not tl and rec is None:
        typer.echo(f"no incident {incident_id!r} in {db}", err=True)
        raise typer.Exit(2)
    text = render_postmortem(PostmortemInput(
        incident_id, tl, rec, repo.list_changes(incident_id=incident_id, limit=10_000),
        store.decisions(incident_id),
        repo.get_problem(rec.problem_id) if rec and rec.problem_id else None,
        repo.audit_entries(subject=incident_id)))
    if out:
        Path(out).write_text(text)
    else:
        typer.echo(text, nl=False)


def register(app: typer.Typer) -> None:
    """Add the ITSM commands to the ``healops`` command."""
    app.add_typer(audit_app, name="audit")
    app.command("postmortem")(postmortem)
