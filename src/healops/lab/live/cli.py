"""``healops demo``: start the live lab, break things on a schedule, watch healops heal them.

``healops demo inject FAULT`` breaks something in the demo that is running now (it drops
the fault's name into that lab's inbox, which the driver reads every second).
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["app", "pointer_path"]

app = typer.Typer(help="The live lab: real services break and heal in front of you.",
                  invoke_without_command=True, no_args_is_help=False)


def pointer_path() -> Path:
    """Where a running demo says where its lab is, for ``healops demo inject``."""
    return Path(tempfile.gettempdir()) / "healops-demo-current.json"


@app.callback()
def demo(
    ctx: typer.Context,
    duration: Annotated[float, typer.Option(help="Seconds to run.")] = 300.0,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object at the end.")]
    = False,
    schedule: Annotated[bool, typer.Option(help="Inject the faults one after another.")] = True,
    faults: Annotated[str, typer.Option(help="Comma-separated faults to schedule "
                                        "(default: all of them).")] = "",
    lab_dir: Annotated[Path | None, typer.Option(help="Parent directory for the lab "
                                                 "(default: a new temporary one).")] = None,
    rps: Annotated[float, typer.Option(help="Mean requests per second of the load.")] = 3.0,
    warmup: Annotated[float, typer.Option(help="Seconds of normal traffic first (the traffic "
                                          "baseline needs about 40 s to settle).")] = 40.0,
    seed: Annotated[int, typer.Option(help="Seed of the load generator.")] = 1,
) -> None:
    """Start the live lab and let healops run it (Ctrl-C stops it and cleans up)."""
    if ctx.invoked_subcommand is not None:
        return
    from rich.console import Console
    from rich.live import Live

    from healops.lab.live.driver import SCHEDULE, LiveLab
    from healops.lab.live.faults import FAULTS
    from healops.lab.live.report import final_table, render

    chosen = [f.strip() for f in faults.split(",") if f.strip()] or list(SCHEDULE)
    unknown = [f for f in chosen if f not in FAULTS]
    if unknown:
        typer.echo(f"unknown fault(s) {', '.join(unknown)}; known: {', '.join(sorted(FAULTS))}",
                   err=True)
        raise typer.Exit(2)
    err = Console(stderr=True)
    lab = LiveLab(lab_dir, base_rps=rps, seed=seed)
    pointer = pointer_path()
    try:
        err.print("[bold]starting the live lab[/] (5 services, load, HAProxy if installed)…")
        lab.start()
        pointer.write_text(json.dumps({"inbox": str(lab.estate.inbox)}))
        for note in lab.left_out:
            err.print(f"[yellow]left out:[/] {note}")
        show = not json_out or err.is_terminal
        with Live(render(lab), console=err, refresh_per_second=2, transient=json_out,
                  auto_refresh=False) as live:
            def on_tick(lab: LiveLab) -> None:
                if show:
                    live.update(render(lab), refresh=True)

            lab.run(duration, schedule=chosen if schedule else (), warmup_s=warmup,
                    on_tick=on_tick)
    except KeyboardInterrupt:
        err.print("interrupted; cleaning up")
    finally:
        lab.close()
        pointer.unlink(missing_ok=True)
    summary = lab.summary()
    if json_out:
        typer.echo(json.dumps(summary))
    else:
        Console().print(final_table(summary))
        for note in lab.left_out:
            Console().print(f"left out: {note}")


@app.command()
def inject(fault: Annotated[str, typer.Argument(help="The fault to inject now.")]) -> None:
    """Inject FAULT into the demo that is running now."""
    from healops.lab.live.faults import FAULTS

    if fault not in FAULTS:
        typer.echo(f"unknown fault {fault!r}; known: {', '.join(sorted(FAULTS))}", err=True)
        raise typer.Exit(2)
    pointer = pointer_path()
    if not pointer.exists():
        typer.echo("no demo is running (start one with `healops demo`)", err=True)
        raise typer.Exit(1)
    inbox = Path(json.loads(pointer.read_text())["inbox"])
    if not inbox.is_dir():
        typer.echo(f"the demo's inbox {inbox} is gone; is the demo still running?", err=True)
        raise typer.Exit(1)
    (inbox / f"{len(list(inbox.iterdir())):04d}-{fault}.fault").write_text(fault + "\n")
    typer.echo(f"injected {fault}; watch the demo's view")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
