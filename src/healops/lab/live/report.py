"""What a person sees: a live Rich view of the estate, and the final scoreboard.

The view reads the lab (telemetry views, the engine's incidents, the executor's journal,
the pager, the faults in progress); it never changes anything.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from healops.domain.incidents import IncidentState

if TYPE_CHECKING:
    from healops.lab.live.driver import LiveLab

__all__ = ["final_table", "median", "render"]

_STATE_STYLE = {
    IncidentState.OPEN: "yellow", IncidentState.DIAGNOSING: "yellow",
    IncidentState.ACTING: "cyan", IncidentState.VERIFYING: "cyan",
    IncidentState.AWAITING_APPROVAL: "magenta", IncidentState.ESCALATED: "red",
    IncidentState.RESOLVED: "green", IncidentState.SUPPRESSED: "dim",
}


def median(values: Sequence[float]) -> float | None:
    """
    >>> median([3.0, 1.0, 2.0]), median([1.0, 2.0]), median([])
    (2.0, 1.5, None)
    """
    v = sorted(values)
    if not v:
        return None
    mid = len(v) // 2
    return v[mid] if len(v) % 2 else (v[mid - 1] + v[mid]) / 2


def _fmt(v: float | None, unit: str = "", digits: int = 0) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return f"{v:.{digits}f}{unit}"


def _services(lab: LiveLab) -> Table:
    t = Table(title="services", expand=True)
    for col in ("service", "replicas", "version", "req/s", "errors", "p99", "memory", "disk"):
        t.add_column(col)
    by_service: dict[str, list[Any]] = {}
    for v in lab.telemetry.views.values():
        by_service.setdefault(v.service, []).append(v)
    sup = lab.estate.supervisor
    troubled = {s for i in lab.engine.correlator.active.values() for s in i.services}
    for name in lab.estate.order()[::-1]:
        views = by_service.get(name, [])
        up = sum(1 for v in views if v.up)
        status = sup.status(name) if sup is not None else None

        def worst(metric: str, views: list[Any] = views) -> float | None:
            vals = [v.values.get(metric, math.nan) for v in views]
            vals = [x for x in vals if not math.isnan(x)]
            return max(vals) if vals else None

        err = worst("error_ratio")
        bad = up < len(views) or (err is not None and err > 0.2)
        style = "red" if bad else "yellow" if name in troubled else "green"
        rps = sum(v.values.get("requests_per_s", 0.0) or 0.0 for v in views
                  if not math.isnan(v.values.get("requests_per_s", math.nan)))
        t.add_row(Text(("● " if not bad else "✖ ") + name, style=style),
                  f"{up}/{len(views)}", status.version if status else "-", _fmt(rps, "", 1),
                  _fmt(None if err is None else err * 100, "%"),
                  _fmt(worst("latency_p99_ms"), " ms"),
                  _fmt(None if worst("memory_ratio") is None else
                       (worst("memory_ratio") or 0) * 100, "%"), "")
    return t


def _incidents(lab: LiveLab) -> Table:
    t = Table(title="incidents", expand=True)
    for col in ("id", "state", "services", "diagnosis", "latest"):
        t.add_column(col, overflow="fold")
    for inc in list(lab.engine.incidents.values())[-6:]:
        last = inc.timeline[-1].message if inc.timeline else ""
        t.add_row(inc.id, Text(inc.state.value, style=_STATE_STYLE.get(inc.state, "")),
                  ", ".join(sorted(inc.services)), inc.signature or "-", last[:70])
    return t


def _actions(lab: LiveLab) -> Table:
    t = Table(title="actions and pages", expand=True)
    for col in ("when", "what", "result"):
        t.add_column(col, overflow="fold")
    t0 = lab.started_at
    rows: list[tuple[float, str, Text]] = []
    for a in lab.executor.log[-6:]:
        rows.append((a.ts, f"{a.action} {a.target}",
                     Text(a.message[:60], style="green" if a.ok else "red")))
    for ts, esc in lab.pager.pages[-4:]:
        rows.append((ts, f"page: {esc.kind} {esc.service}", Text(esc.reason[:60], style="red")))
    for ts, what, res in sorted(rows, key=lambda r: r[0])[-8:]:
        t.add_row(f"+{ts - t0:.0f}s", what, res)
    return t


def _faults(lab: LiveLab) -> Table:
    t = Table(title="faults", expand=True)
    for col in ("fault", "on", "detected", "recovered", "outcome"):
        t.add_column(col)
    for run in lab.runs[-9:]:
        s = run.summary()
        outcome = str(s["outcome"]) if run.done else "in progress"
        style = {"healed": "green", "escalated": "magenta", "failed": "red"}.get(outcome, "")
        t.add_row(run.fault.name, run.fault.target, _fmt(_num(s["detected_s"]), " s", 1),
                  _fmt(_num(s["recovery_s"]), " s", 1), Text(outcome, style=style))
    return t


def _num(v: object) -> float | None:
    return float(v) if isinstance(v, int | float) else None


def render(lab: LiveLab) -> RenderableType:
    head = Text(f"healops live lab · {lab.estate.dir} · tick {lab.ticks}", style="bold")
    mon = lab.monitoring
    if mon is not None and mon.prometheus_url:
        alerts = mon.receiver.received() if mon.receiver is not None else []
        firing = sorted({f"{a.name}:{a.label('instance') or a.label('service')}"
                         for a in alerts[-20:] if a.status == "firing"})
        head.append(f"\nPrometheus {mon.prometheus_url} · Alertmanager notifications: "
                    f"{len(alerts)}" + (f" (latest firing: {', '.join(firing[-3:])})"
                                       if firing else ""), style="dim")
    parts: list[RenderableType] = [head, _services(lab), _faults(lab), _incidents(lab),
                                   _actions(lab)]
    if lab.left_out:
        parts.append(Text("left out: " + "; ".join(lab.left_out), style="dim"))
    return Group(*parts)


def final_table(summary: dict[str, Any]) -> Table:
    t = Table(title="healops live lab: faults, from injection")
    for col in ("fault", "detected", "recovered", "actions", "outcome", "Alertmanager"):
        t.add_column(col)
    for f in summary["faults"]:
        t.add_row(f["fault"], _fmt(_num(f["detected_s"]), " s", 1),
                  _fmt(_num(f["recovery_s"]), " s", 1), ", ".join(f["actions"]) or "-",
                  f["outcome"], _fmt(_num(f.get("alerted_s")), " s", 1))
    rec = [float(f["recovery_s"]) for f in summary["faults"]
           if f["outcome"] == "healed" and f["recovery_s"] is not None]
    m = median(rec)
    t.caption = f"median injection -> healthy over healed faults: {_fmt(m, ' s', 1)}"
    return t
