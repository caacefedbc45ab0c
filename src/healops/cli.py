"""The ``healops`` command. Thin: it parses arguments, calls into the package, prints."""

from __future__ import annotations

from pathlib import Path

import typer

from healops import __version__
from healops.api import cli as api_cli
from healops.itsm import cli as itsm_cli
from healops.lab.live import cli as demo_cli

app = typer.Typer(help="healops: a self-healing IT service management engine.",
                  no_args_is_help=True)
lab_app = typer.Typer(help="The simulated estate and the live lab.", no_args_is_help=True)
bench_app = typer.Typer(
    help="Benchmarks that print ratios against a baseline measured in the same run.",
    no_args_is_help=True,
)
app.add_typer(lab_app, name="lab")
app.add_typer(bench_app, name="bench")
app.add_typer(demo_cli.app, name="demo")
itsm_cli.register(app)
app.command("serve")(api_cli.serve)
app.command("incidents")(api_cli.incidents)
app.command("show")(api_cli.show)
app.command("approve")(api_cli.approve)
app.command("reject")(api_cli.reject)
app.command("runbooks")(api_cli.runbooks)
app.command("reload")(api_cli.reload)
app.add_typer(api_cli.token_app, name="token")


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
    db: str = typer.Option("sqlite://", help="Where the engine keeps records (SQLAlchemy URL)."),
    jobs: int = typer.Option(2, min=1, help="Processes: 2 runs the baseline beside healops."),
) -> None:
    """Run the simulated estate against the engine and print the scoreboard."""
    from healops.lab.cli import run_sim

    raise typer.Exit(run_sim(scenario=scenario, seed=seed, incidents=incidents, as_json=json_out,
                             db_url=db, jobs=jobs))


@bench_app.command("nab")
def bench_nab(
    data: Path = typer.Option(..., help="Folder of NAB CSV files (<category>/<file>.csv)."),
    windows: Path | None = typer.Option(None, help="NAB windows JSON (omit: only score)."),
    out: Path = typer.Option(Path("out/nab"), help="Where to write the NAB results files."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Stream the NAB corpus through the default detector and score it with NAB's rules."""
    from healops.bench.nab import main as nab_main

    raise typer.Exit(nab_main(data=data, windows=windows, out=out, as_json=json_out))


@bench_app.command("detect")
def bench_detect(
    series: int = typer.Option(10_000, help="How many series the bank holds."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Samples per second of the default detector bank, against river's HalfSpaceTrees."""
    from healops.bench.detect_speed import main as detect_main

    raise typer.Exit(detect_main(series=series, as_json=json_out))


@bench_app.command("rca")
def bench_rca(
    data: Path | None = typer.Option(None, help="A sockshop1 or nezha-online-boutique folder."),
    synthetic: bool = typer.Option(False, help="Generate cases from a structural causal model."),
    cases: int = typer.Option(100, help="How many synthetic cases."),
    seed: int = typer.Option(1, help="Seed of the synthetic generator."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Root-cause ranking accuracy (AC@1, AC@3, Avg@5) with a BARO baseline from the same run."""
    from healops.bench.rca import main as rca_main

    raise typer.Exit(rca_main(data=data, synthetic=synthetic, cases=cases, seed=seed,
                              as_json=json_out))


@bench_app.command("crash")
def bench_crash(
    runs: int = typer.Option(200, help="How many remediations (one injected fault each)."),
    seed: int = typer.Option(1, help="Seed of the faults and of where the kills land."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """SIGKILL the engine during remediations (between intent and result too), restart it,
    and count duplicate executions, lost incidents and unreconciled intents."""
    from healops.bench.crash import main as crash_main

    raise typer.Exit(crash_main(runs=runs, seed=seed, as_json=json_out))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
