"""Rank the services most likely to have caused an incident, from metrics around it.

Three signals, multiplied:

1. **anomaly strength**: the robust z-score of each series after the fault against the
   window before it (:mod:`~healops.diagnose.rca.score`), log-compressed so one
   near-constant series cannot drown the rest; a service's strength is that of its best
   *own* metric (CPU, memory, server latency, errors; or the latency its callers see
   when calling it).
2. **onset**: a service whose anomaly started later than the earliest one is discounted.
3. **propagation**: latency and errors travel from callee to caller. A service whose
   symptoms are latency or errors, and that calls (directly or not) an anomalous service
   whose anomaly started no later, is *explained* and discounted; a service gains credit
   for each anomalous caller it explains. A caller's client-side latency is evidence
   about its callees, never about the caller itself, unless it has no callee to blame.

>>> from healops.domain.topology import Service, Topology
>>> topo = Topology.build([Service("web", depends_on=("db",)), Service("db")])
>>> before = MetricFrame.build({("web", "latency"): [10, 11, 9, 10, 10, 11, 9, 10],
...                             ("db", "cpu"): [20, 21, 19, 20, 20, 21, 19, 20]})
>>> after = MetricFrame.build({("web", "latency"): [10, 90, 95, 99],
...                            ("db", "cpu"): [60, 62, 61, 63]})
>>> [(c.service, c.metric, c.fault) for c in rank_root_causes(before, after, topo)]
[('db', 'cpu', 'cpu'), ('web', 'latency', 'latency')]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from healops.diagnose.rca.frame import MetricFrame
from healops.diagnose.rca.infer import infer_topology
from healops.diagnose.rca.kinds import FaultKind, call_caller
from healops.diagnose.rca.score import ScoreSettings, SeriesScore, score_frames
from healops.domain.diagnosis import Evidence
from healops.domain.signals import ChangeEvent
from healops.domain.topology import Topology

__all__ = ["RankSettings", "RankedCause", "rank_root_causes"]

_PROPAGATING: frozenset[str] = frozenset({"latency", "errors"})


@dataclass(frozen=True, slots=True, kw_only=True)
class RankSettings:
    """Weights of the ranking; the defaults hold for every data set we measure."""

    scores: ScoreSettings = field(default_factory=ScoreSettings)
    onset_decay: float = 0.25  # score x 1 / (1 + decay * samples later than the first onset)
    explained_factor: float = 0.3  # score x this when an earlier anomalous callee explains it
    caller_credit: float = 0.5  # score x (1 + credit * share of anomalous callers explained)
    change_credit: float = 0.5  # score x (1 + credit) after a change to the service
    outgoing_weight: float = 0.0  # client-side latency counts this much as one's own
    traffic_weight: float = 0.5  # a change of traffic is more often a victim than a cause
    ambiguity_margin: float = 0.1  # top two closer than this share of the top: ambiguous


@dataclass(frozen=True, slots=True)
class RankedCause:
    """One candidate root cause and why it is ranked where it is."""

    service: str
    metric: str  # the indicator: the metric that shows the fault best
    fault: FaultKind
    score: float
    confidence: float  # in [0, 1]; the confidences of one ranking sum to at most 1
    onset: int | None  # sample of the after window where the indicator crossed threshold
    explains: tuple[str, ...] = ()  # anomalous callers whose symptoms this cause explains
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True, slots=True)
class _Candidate:
    service: str
    best: SeriesScore
    strength: float
    propagating: bool


def _compress(z: float, threshold: float) -> float:
    return math.log1p(max(z - threshold, 0.0))


def _candidates(
    scores: Sequence[SeriesScore], topology: Topology | None, cfg: RankSettings
) -> dict[str, _Candidate]:
    best: dict[str, tuple[float, SeriesScore]] = {}
    for s in scores:
        weight = 1.0
        if s.role == "outgoing":
            weight = cfg.outgoing_weight
        elif s.kind == "workload":
            weight = cfg.traffic_weight
        value = weight * _compress(s.strength, cfg.scores.threshold)
        if s.service not in best or value > best[s.service][0]:
            best[s.service] = (value, s)
    return {
        svc: _Candidate(svc, s, value, s.kind in _PROPAGATING or s.role != "own")
        for svc, (value, s) in best.items()
    }


def _blamed_callees(
    svc: str,
    cand: _Candidate,
    anomalous: dict[str, _Candidate],
    incoming: dict[tuple[str, str], float],
    topology: Topology,
) -> list[str]:
    """Anomalous services ``svc`` calls (directly or not) that started no later than it.

    When calls from ``svc`` to a direct callee are measured, that callee is only blamed
    if those calls degraded too.
    """
    onset = cand.best.onset if cand.best.onset is not None else 10**9
    out = []
    for d in sorted(topology.downstream(svc)):
        other = anomalous.get(d)
        if other is None or (other.best.onset or 0) > onset:
            continue
        if d in topology.callees(svc) and not _calls_degraded(svc, d, incoming, topology):
            continue
        out.append(d)
    return out


def _calls_degraded(
    caller: str, callee: str, incoming: dict[tuple[str, str], float], topology: Topology
) -> bool:
    del topology
    return (caller, callee) in incoming or not any(c == caller for c, _ in incoming)


def _changed(services: set[str], changes: Sequence[ChangeEvent], after: MetricFrame,
             span: float) -> set[str]:
    since = after.start - span
    until = after.start + len(after) * after.step
    return {c.service for c in changes if c.service in services and since <= c.ts <= until}


def rank_root_causes(
    before: MetricFrame,
    after: MetricFrame,
    topology: Topology | None = None,
    changes: Sequence[ChangeEvent] = (),
    settings: RankSettings | None = None,
) -> list[RankedCause]:
    """Every service of ``after``, most likely root cause first.

    Without ``topology``, call edges are read from ``call:<caller>:`` metrics, if any.
    """
    cfg = settings or RankSettings()
    if topology is None:
        topology = infer_topology(after.series)
    scores = score_frames(before, after, cfg.scores)
    cands = _candidates(scores, topology, cfg)
    anomalous = {s: c for s, c in cands.items() if c.strength > 0 and c.best.onset is not None}
    first = min((c.best.onset for c in anomalous.values() if c.best.onset is not None), default=0)
    incoming = {
        (caller, s.service): s.strength
        for s in scores
        if (caller := call_caller(s.metric)) is not None and s.onset is not None
    }
    changed = _changed(set(cands), changes, after, len(before) * before.step)

    raw: dict[str, float] = {}
    explains: dict[str, tuple[str, ...]] = {}
    explained_by: dict[str, str] = {}
    for svc, cand in cands.items():
        value = cand.strength
        if svc in anomalous and cand.best.onset is not None:
            value /= 1.0 + cfg.onset_decay * (cand.best.onset - first)
        if topology is not None and svc in topology:
            blamed = _blamed_callees(svc, cand, anomalous, incoming, topology)
            if cand.propagating and blamed:
                value *= cfg.explained_factor
                explained_by[svc] = max(blamed, key=lambda d: anomalous[d].strength)
            up = topology.upstream(svc)
            mine = tuple(sorted(u for u in up if u in anomalous))
            explains[svc] = mine
            if up:
                value *= 1.0 + cfg.caller_credit * len(mine) / len(up)
        if svc in changed:
            value *= 1.0 + cfg.change_credit
        raw[svc] = value

    total = sum(raw.values())
    ranked = sorted(raw, key=lambda s: (-raw[s], s))
    out: list[RankedCause] = []
    for svc in ranked:
        cand = cands[svc]
        out.append(
            RankedCause(
                service=svc,
                metric=cand.best.metric,
                fault=_fault_of(cand.best),
                score=raw[svc],
                confidence=raw[svc] / total if total > 0 else 0.0,
                onset=cand.best.onset,
                explains=explains.get(svc, ()),
                evidence=_evidence(svc, cand.best, explains.get(svc, ()), explained_by.get(svc),
                                   topology, after, svc in changed),
            )
        )
    return out


def _fault_of(s: SeriesScore) -> FaultKind:
    if s.role == "incoming" or s.role == "outgoing":
        return "network" if s.kind == "latency" else s.kind
    return s.kind


def _evidence(
    svc: str,
    best: SeriesScore,
    explains: tuple[str, ...],
    explained_by: str | None,
    topology: Topology | None,
    after: MetricFrame,
    changed: bool,
) -> tuple[Evidence, ...]:
    caller = call_caller(best.metric)
    where = f" of calls from {caller}" if caller else ""
    items = [
        Evidence(
            kind="metric",
            summary=(f"{svc} {best.metric}{where}: {best.before:.4g} before, "
                     f"{best.after:.4g} after (robust z {best.strength:.1f})"),
            series=f"{svc}/{best.metric}",
            before=best.before,
            after=best.after,
            ts=after.time_of(best.onset) if best.onset is not None else None,
        )
    ]
    if topology is not None:
        for up in explains[:3]:
            path = topology.path(up, svc)
            if path:
                items.append(Evidence(kind="path", summary=(
                    f"{' -> '.join(path)}: {svc} explains the symptoms of {up}")))
        if explained_by is not None:
            path = topology.path(svc, explained_by)
            items.append(Evidence(kind="path", summary=(
                f"{' -> '.join(path)}: explained by {explained_by}, which it calls")))
    if changed:
        items.append(Evidence(kind="change", summary=f"{svc} changed shortly before"))
    return tuple(items)
