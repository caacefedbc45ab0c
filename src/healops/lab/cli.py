"""``healops lab sim``: run a scenario with and without automation and print the scoreboard."""

from __future__ import annotations

import json
import multiprocessing as mp
import time
from queue import Empty

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from healops.config.load import ConfigError
from healops.lab.runner import RunResult, run_scenario
from healops.lab.scenario import Scenario, load_scenario
from healops.lab.scoreboard import compare, score

__all__ = ["run_sim", "simulate"]


def simulate(scenario_name: str, *, seed: int, incidents: int | None,
             db_url: str = "sqlite://", show_progress: bool = False,
             jobs: int = 2) -> dict[str, object]:
    """Both runs of a seed; with ``jobs`` >= 2 the baseline runs in a second process."""
    scenario = load_scenario(scenario_name)
    n = incidents or scenario.incidents
    t0 = time.perf_counter()
    err = Console(stderr=True)
    with Progress(console=err, disable=not show_progress, transient=True) as bar:
        ta = bar.add_task("healops in charge", total=n)
        tb = bar.add_task("no automation (baseline)", total=n)
        if jobs >= 2:
            ctx = mp.get_context("spawn")
            queue: mp.Queue[tuple[str, object]] = ctx.Queue()
            child = ctx.Process(target=_baseline_child, args=(scenario, seed, n, queue),
                                daemon=True)
            child.start()
            box: list[RunResult] = []

            def drain(block: bool) -> None:
                while not box:
                    try:
                        kind, payload = queue.get(block=block, timeout=None if block else 0)
                    except Empty:
                        return
                    if kind == "progress":
                        assert isinstance(payload, int)
                        bar.update(tb, completed=payload)
                    elif kind == "error":
                        raise RuntimeError(f"baseline run failed: {payload}")
                    else:
                        assert isinstance(payload, RunResult)
                        box.append(payload)

            def tick_a(i: int) -> None:
                bar.update(ta, completed=i)
                drain(block=False)

            auto = run_scenario(scenario, seed=seed, incidents=n, automated=True,
                                db_url=db_url, progress=tick_a)
            drain(block=True)
            child.join()
            base = box[0]
        else:
            auto = run_scenario(scenario, seed=seed, incidents=n, automated=True,
                                db_url=db_url, progress=lambda i: bar.update(ta, completed=i))
            base = run_scenario(scenario, seed=seed, incidents=n, automated=False,
                                progress=lambda i: bar.update(tb, completed=i))
    wall = time.perf_counter() - t0
    sa, sb = score(auto), score(base)
    return {"scenario": scenario.name, "seed": seed, "incidents": n,
            "wall_s": round(wall, 2), "healops": sa, "baseline": sb,
            "reduction": compare(sa, sb)}


def _baseline_child(scenario: Scenario, seed: int, n: int,
                    queue: mp.Queue[tuple[str, object]]) -> None:
    try:
        base = run_scenario(scenario, seed=seed, incidents=n, automated=False,
                            progress=lambda i: queue.put(("progress", i)))
    except Exception as exc:  # reported to the parent, which fails loudly
        queue.put(("error", f"{type(exc).__name__}: {exc}"))
        return
    queue.put(("result", base))


def _fmt(v: object) -> str:
    if isinstance(v, dict):
        med = v.get("median")
        return "-" if med is None else f"{med:g} / {v.get('p90'):g}"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def run_sim(*, scenario: str, seed: int, incidents: int | None, as_json: bool,
            db_url: str, jobs: int = 2) -> int:
    try:
        result = simulate(scenario, seed=seed, incidents=incidents, db_url=db_url,
                          show_progress=not as_json, jobs=jobs)
    except ConfigError as exc:
        Console(stderr=True).print(f"[red]error:[/red] {exc}", highlight=False)
        return 2
    if as_json:
        print(json.dumps(result))
        return 0
    console = Console()
    cols = ("injected", "detected", "auto_resolved", "resolved_after_approval", "escalated",
            "escalated_correctly",
            "harmful_actions", "mttd_s", "mttr_s", "pages", "tickets", "downtime_s")
    for who in ("healops", "baseline"):
        table = Table(title=f"{who}: scenario {result['scenario']}, seed {result['seed']}, "
                      f"{result['incidents']} incidents", title_justify="left")
        table.add_column("fault class")
        for c in cols:
            table.add_column(c.replace("_", " ") + (" (med / p90)" if c.startswith("mtt")
                                                    else ""), justify="right")
        data = result[who]
        assert isinstance(data, dict)
        rows = sorted(data, key=lambda k: (k in ("simultaneous", "overall"), k == "overall", k))
        for cls in rows:
            table.add_row(cls, *(_fmt(data[cls].get(c, "")) for c in cols),
                          style="bold" if cls == "overall" else None)
        console.print(table)
    red = result["reduction"]
    assert isinstance(red, dict)
    console.print("reductions vs the no-automation baseline: " + ", ".join(
        f"{k.removesuffix('_pct').replace('_', ' ')} {v:g}%" for k, v in red.items()
        if v is not None))
    console.print(f"[dim]wall time {result['wall_s']} s[/dim]")
    return 0
