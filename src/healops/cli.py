"""The ``healops`` command. Thin: it parses arguments, calls into the package, prints."""

from __future__ import annotations

from pathlib import Path

import typer

from healops import __version__

app = typer.Typer(help="healops: a self-healing IT service management engine.", no_args_is_help=True)
lab_app = typer.Typer(help="The simulated estate and the live lab.", no_args_is_help=True)
bench_app = typer.Typer(help="Benchmarks that print ratios against a baseline measured in the same run.",
                        no_args_is_help=True)
app.add_typer(lab_app, name="lab")
app.add_typer(bench_app, name="bench")


@app.command()
def version() -> None:
    """Print the healops version."""
    typer.echo(__version__)


@app.command("schema")
def schema(out: Path | None = typer.Option(None, help="Write the JSON Schema here.")) -> None:
    """Print the JSON Schema of the configuration file."""
    from healops.config import config_json_schema

    text = config_json_schema()
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text + "\n")


@app.command("check-config")
def check_config(path: Path) -> None:
    """Validate a configuration file and say what is wrong with it."""
    from healops.config import ConfigError, load_config

    try:
        cfg = load_config(path)
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"{path}: ok ({len(cfg.topology.services)} services, {len(cfg.runbooks)} runbooks)")


@lab_app.command("sim")
def lab_sim(
    scenario: str = typer.Option("standard", help="A built-in scenario name or a YAML file."),
    seed: int = typer.Option(1, help="Seed of the simulation; the same seed gives the same run."),
    incidents: int | None = typer.Option(None, help="How many incidents to inject."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object instead of tables."),
    db: str = typer.Option("sqlite://", help="Where the engine keeps its records (SQLAlchemy URL)."),
) -> None:
    """Run the simulated estate against the engine and print the scoreboard."""
    from healops.lab.cli import run_sim

    raise typer.Exit(run_sim(scenario=scenario, seed=seed, incidents=incidents, as_json=json_out,
                             db_url=db))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
