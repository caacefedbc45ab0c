"""The scoreboard: ground-truth figures per fault class, for healops and for the
no-automation baseline on the same faults, and the reductions between them."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from healops.lab.runner import RunResult

__all__ = ["score", "compare"]

_KEYS = ("injected", "detected", "root_cause_named", "auto_resolved",
         "resolved_after_approval", "escalated", "escalated_correctly", "harmful_actions",
         "pages", "tickets", "manual_interventions", "downtime_s")


def _stat(xs: list[float]) -> dict[str, float | None]:
    if not xs:
        return {"median": None, "p90": None}
    arr = np.asarray(xs, dtype=float)
    return {"median": round(float(np.median(arr)), 1),
            "p90": round(float(np.percentile(arr, 90)), 1)}


def score(run: RunResult) -> dict[str, Any]:
    rows: dict[str, dict[str, float]] = defaultdict(lambda: dict.fromkeys(_KEYS, 0.0))
    mttd: dict[str, list[float]] = defaultdict(list)
    mttr: dict[str, list[float]] = defaultdict(list)
    flapping_actions = 0
    for ep in run.episodes:
        classes = [f.name for f in ep.faults]
        share = 1.0 / len(ep.faults)
        for i, f in enumerate(ep.faults):
            keys = ("overall", f.name) + (("simultaneous",) if len(ep.faults) > 1 else ())
            for key in keys:
                r = rows[key]
                r["injected"] += 1
                r["detected"] += i in ep.detected_at
                r["root_cause_named"] += ep.root_named.get(i, False)
                by_engine = f.cured_by == "engine" and not ep.escalated.get(i, False)
                r["auto_resolved"] += by_engine and not ep.approved.get(i, False)
                r["resolved_after_approval"] += by_engine and ep.approved.get(i, False)
                r["escalated"] += ep.escalated.get(i, False)
                r["escalated_correctly"] += ep.escalated.get(i, False) \
                    and ep.escalation_complete.get(i, False)
                r["downtime_s"] += ep.downtime_s.get(i, 0.0)
                # Episode-level counts are shared between the faults of a pair.
                r["pages"] += ep.pages * share
                r["tickets"] += ep.tickets * share
                r["manual_interventions"] += ep.manual * share
                r["harmful_actions"] += sum(a[3] for a in ep.actions) * share
                if i in ep.detected_at:
                    mttd[key].append(ep.detected_at[i] - f.injected_at)
                if f.cured_at is not None and f.expect != "ignore":
                    mttr[key].append(f.cured_at - f.injected_at)
            if f.name == "flapping_noise":
                flapping_actions += len(ep.actions)
        del classes
    out: dict[str, Any] = {}
    for key, r in rows.items():
        out[key] = {k: round(v, 2) for k, v in r.items()}
        out[key]["mttd_s"] = _stat(mttd[key])
        out[key]["mttr_s"] = _stat(mttr[key])
    out["overall"]["flapping_actions"] = flapping_actions
    return out


def _reduction(before: float, after: float) -> float | None:
    return round(100.0 * (before - after) / before, 1) if before > 0 else None


def compare(auto: dict[str, Any], base: dict[str, Any]) -> dict[str, float | None]:
    a, b = auto["overall"], base["overall"]
    return {
        "downtime_pct": _reduction(b["downtime_s"], a["downtime_s"]),
        "manual_interventions_pct": _reduction(b["manual_interventions"],
                                               a["manual_interventions"]),
        "tickets_pct": _reduction(b["tickets"], a["tickets"]),
        "pages_pct": _reduction(b["pages"], a["pages"]),
        "mttr_median_pct": _reduction(b["mttr_s"]["median"] or 0, a["mttr_s"]["median"] or 0),
    }
