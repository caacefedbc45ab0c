"""Evidence a person can check, attached to every ranked cause.

Three kinds, each a plain record rather than prose: a **metric** (which series, its level
before and after, how unusual, from when), a **path** through the topology (who calls whom,
and what the path shows), and a **change** (the change event and how long before the
symptoms it landed). :func:`as_domain` renders them as the domain's
:class:`~healops.domain.diagnosis.Evidence` for hypotheses, keeping the numbers.

>>> m = MetricEvidence("db", "cpu", before=20.0, after=61.0, strength=30.5, at=120.0)
>>> e = as_domain(m)
>>> e.kind, e.series, e.before, e.after, e.ts
('metric', 'db/cpu', 20.0, 61.0, 120.0)
>>> as_domain(PathEvidence(("web", "db"), "explains")).summary
'web -> db: db explains the symptoms of web'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from healops.diagnose.rca.kinds import call_caller
from healops.domain.diagnosis import Evidence
from healops.domain.signals import ChangeEvent

__all__ = [
    "CauseEvidence",
    "ChangeEvidence",
    "MetricEvidence",
    "PathEvidence",
    "Relation",
    "as_domain",
]

Relation = Literal["explains", "explained_by", "stopped_calling", "more_load"]


@dataclass(frozen=True, slots=True)
class MetricEvidence:
    """One series: its baseline, the level it held after, and how unusual that is."""

    service: str  # the service the series is keyed under
    metric: str
    before: float  # baseline (median of the window before)
    after: float  # level held after (nan: the series stopped reporting)
    strength: float  # robust z of the lasting deviation, in the harmful direction
    at: float | None = None  # time the deviation started, None when it never crossed
    stopped: bool = False  # it reported before and mostly stopped after

    @property
    def series(self) -> str:
        return f"{self.service}/{self.metric}"


@dataclass(frozen=True, slots=True)
class PathEvidence:
    """A path through the call graph, first element the caller, and what it shows."""

    path: tuple[str, ...]
    relation: Relation


@dataclass(frozen=True, slots=True)
class ChangeEvidence:
    """A change to the cause or next to it, and how long before the cause's symptoms."""

    change: ChangeEvent
    lead_s: float  # seconds from the change to the cause's first symptom
    hops: int = 0  # calls between the changed service and the cause (0: the cause itself)


CauseEvidence = MetricEvidence | PathEvidence | ChangeEvidence


def _metric_summary(m: MetricEvidence) -> str:
    caller = call_caller(m.metric)
    where = f" (calls from {caller})" if caller else ""
    if m.stopped:
        return f"{m.series}{where}: reported {m.before:.4g} before, then stopped: no calls"
    return (f"{m.series}{where}: {m.before:.4g} before, {m.after:.4g} after "
            f"(robust z {m.strength:.1f})")


def _path_summary(p: PathEvidence) -> str:
    arrow = " -> ".join(p.path)
    first, last = p.path[0], p.path[-1]
    if p.relation == "explains":
        return f"{arrow}: {last} explains the symptoms of {first}"
    if p.relation == "explained_by":
        return f"{arrow}: {first} is explained by {last}, which it calls"
    if p.relation == "stopped_calling":
        return f"{arrow}: {first} stopped sending traffic that {last} lost"
    return f"{arrow}: {last} slowed under more traffic from its callers"


def as_domain(item: CauseEvidence) -> Evidence:
    """The domain's evidence record, with the numbers kept in its fields."""
    if isinstance(item, MetricEvidence):
        return Evidence(kind="metric", summary=_metric_summary(item), series=item.series,
                        before=item.before, after=item.after, ts=item.at)
    if isinstance(item, PathEvidence):
        return Evidence(kind="path", summary=_path_summary(item))
    ch = item.change
    version = f" {ch.previous_version} -> {ch.version}" if ch.version else ""
    where = "" if item.hops == 0 else f" ({item.hops} call{'s' if item.hops > 1 else ''} away)"
    return Evidence(kind="change", summary=(
        f"{ch.kind} of {ch.service}{version}{where} at {ch.ts:.0f}, {item.lead_s:.0f} s "
        "before the first symptom"), series=ch.service, ts=ch.ts)
