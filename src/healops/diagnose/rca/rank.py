"""Rank the services most likely to have caused an incident, from metrics around it.

Four signals, multiplied:

1. **anomaly strength**: the robust z-score of each series after the fault against the
   window before it (:mod:`~healops.diagnose.rca.score`), log-compressed so one
   near-constant series cannot drown the rest. A service has two kinds of evidence, each
   as strong as its best series: its *own* (CPU, memory, I/O, traffic it stopped
   sending), which no other service can explain, and its *symptoms* (server latency,
   errors, the latency its callers see when calling it), which a dependency can.
2. **onset**: a service whose anomaly started later than the earliest one is discounted.
3. **propagation** (:mod:`~healops.diagnose.rca.propagation`): latency and errors travel
   from callee to caller. A service's symptoms are *explained*, and discounted, when it
   calls (directly or not) an anomalous service whose anomaly started no later; its own
   evidence keeps its full weight, so a busy caller with a CPU fault of its own is not
   excused by a slow callee. A caller's client-side latency is evidence about its
   callees, never about the caller itself.
4. **traffic** (:mod:`~healops.diagnose.rca.traffic`): traffic travels the other way. A
   callee's lost traffic is credited to the caller that stopped sending it (a fault that
   fails requests before they reach their dependencies), and latency that rose with the
   service's own load is a victim's symptom.

Each cause carries checkable evidence (:mod:`~healops.diagnose.rca.evidence`): its
strongest series with their levels before and after, the paths through the call graph
that tie it to other symptoms, and any change to it shortly before.

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from healops.diagnose.rca.changes import rank_changes
from healops.diagnose.rca.evidence import (
    CauseEvidence,
    ChangeEvidence,
    MetricEvidence,
    PathEvidence,
    as_domain,
)
from healops.diagnose.rca.frame import MetricFrame
from healops.diagnose.rca.infer import infer_topology
from healops.diagnose.rca.kinds import FaultKind, call_caller
from healops.diagnose.rca.propagation import explaining_callees
from healops.diagnose.rca.score import ScoreSettings, SeriesScore, score_frames
from healops.diagnose.rca.traffic import (
    LostEdge,
    compress,
    is_drop,
    lost_traffic,
    under_more_load,
)
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
    onset_slack: int = 0  # samples by which a cause may seem to start after its symptom
    explained_factor: float = 0.3  # score x this when an earlier anomalous callee explains it
    caller_credit: float = 0.0  # score x (1 + credit * share of callers it explains)
    change_credit: float = 0.5  # score x (1 + credit) after a change to the service
    outgoing_weight: float = 0.0  # client-side latency counts this much as one's own
    traffic_weight: float = 0.5  # a rise of traffic is more often a victim than a cause
    loss_weight: float = 1.0  # traffic a service stopped sending counts this much as its own
    load_rise: float = 0.5  # own traffic up this many robust units: its latency is load
    evidence_series: int = 3  # strongest series of a cause shown as evidence
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
    details: tuple[CauseEvidence, ...] = ()  # metrics, paths and changes, strongest first

    @property
    def evidence(self) -> tuple[Evidence, ...]:
        """The details as the domain's evidence records."""
        return tuple(as_domain(d) for d in self.details)

    def of_kind(self, kind: type[CauseEvidence]) -> tuple[CauseEvidence, ...]:
        return tuple(d for d in self.details if isinstance(d, kind))


@dataclass(frozen=True, slots=True)
class _Candidate:
    """The strongest series of one kind of evidence about a service."""

    service: str
    best: SeriesScore
    strength: float  # compressed, weighted
    propagating: bool  # latency or errors: it may come from a callee
    lost: tuple[LostEdge, ...] = ()
    hint: float = 0.0  # weighted robust z of the best series, below threshold or not


@dataclass(frozen=True, slots=True)
class _Tracks:
    """A service's own evidence (resources, traffic it stopped sending) and its symptoms
    (latency, errors), kept apart: only symptoms can be explained by a dependency."""

    own: _Candidate | None = None
    symptom: _Candidate | None = None

    def each(self) -> tuple[_Candidate, ...]:
        return tuple(c for c in (self.own, self.symptom) if c is not None)

    @property
    def hint(self) -> float:
        return max((c.hint for c in self.each()), default=0.0)


def _better(new: _Candidate, old: _Candidate | None) -> bool:
    return old is None or (new.strength, new.hint) > (old.strength, old.hint)


def _candidates(
    scores: Sequence[SeriesScore], topology: Topology | None, cfg: RankSettings
) -> dict[str, _Tracks]:
    threshold = cfg.scores.threshold
    own: dict[str, _Candidate] = {}
    symptom: dict[str, _Candidate] = {}
    for s in scores:
        weight = 1.0
        if s.role == "outgoing" or (topology is not None and is_drop(s)):
            weight = cfg.outgoing_weight  # about callees / callers, not this service
        elif s.kind == "workload":
            weight = cfg.traffic_weight
        propagating = s.kind in _PROPAGATING or s.role != "own"
        cand = _Candidate(s.service, s, weight * compress(s.strength, threshold),
                          propagating, hint=weight * s.strength)
        track = symptom if propagating else own
        if _better(cand, track.get(s.service)):
            track[s.service] = cand
    stop_z = 1.0 / cfg.scores.relative_floor  # a drop to zero, in robust units
    for svc, (total, edges) in lost_traffic(scores, topology, threshold=threshold,
                                            stop_z=stop_z).items():
        value = cfg.loss_weight * total
        shown = max(edges, key=lambda e: e.value).series
        cand = _Candidate(svc, shown, value, False, edges, hint=value)
        if _better(cand, own.get(svc)):
            own[svc] = cand
    return {svc: _Tracks(own.get(svc), symptom.get(svc)) for svc in sorted({*own, *symptom})}


def _started(tracks: _Tracks) -> int | None:
    """When a service's anomaly began: the earliest onset of its anomalous evidence."""
    onsets = [c.best.onset for c in tracks.each() if c.strength > 0 and c.best.onset is not None]
    return min(onsets, default=None)


def _degraded_calls(incoming: dict[tuple[str, str], float]) -> Callable[[str, str], bool]:
    """Whether calls on an edge degraded; a caller none of whose calls are measured: yes."""
    measured = {caller for caller, _ in incoming}

    def degraded(caller: str, callee: str) -> bool:
        return (caller, callee) in incoming or caller not in measured

    return degraded


def _nearby_changes(
    svc: str,
    at: float,
    changes: Sequence[ChangeEvent],
    topology: Topology | None,
    window_s: float,
) -> tuple[ChangeEvidence, ...]:
    """Changes to the cause or one call from it, landed within ``window_s`` before ``at``."""
    ranked = rank_changes(changes, {svc: at}, topology, window_s=window_s, max_hops=1)
    return tuple(ChangeEvidence(r.change, r.lead_s, r.hops or 0) for r in ranked)


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
    tracks = _candidates(scores, topology, cfg)
    started = {svc: b for svc, t in tracks.items() if (b := _started(t)) is not None}
    first = min(started.values(), default=0)
    incoming = {
        (caller, s.service): s.strength
        for s in scores
        if (caller := call_caller(s.metric)) is not None and s.onset is not None
    }
    window_s = len(before) * before.step
    first_ts = after.time_of(min((s.onset for s in scores if s.onset is not None), default=0))
    near: dict[str, tuple[ChangeEvidence, ...]] = {}
    by_service: dict[str, list[SeriesScore]] = {}
    for s in scores:
        by_service.setdefault(s.service, []).append(s)
    if changes:
        for svc in tracks:
            onsets = [s.onset for s in by_service.get(svc, ()) if s.onset is not None
                      and s.role != "outgoing"]
            at = after.time_of(min(onsets)) if onsets else first_ts  # its first symptom
            nearby = _nearby_changes(svc, at, changes, topology, window_s)
            if nearby:
                near[svc] = nearby
    changed = {svc for svc, nearby in near.items() if any(c.hops == 0 for c in nearby)}
    loaded = under_more_load(scores, cfg.load_rise)

    blamed: dict[str, list[str]] = {}
    if topology is not None:
        at_start = {svc: float(at) for svc, at in started.items()}
        degraded = _degraded_calls(incoming)
        for svc, t in tracks.items():
            sym = t.symptom
            if sym is not None and sym.strength > 0 and sym.best.onset is not None:
                found = explaining_callees(svc, float(sym.best.onset), at_start, topology,
                                           slack=cfg.onset_slack, degraded=degraded)
                if found:
                    blamed[svc] = found

    raw: dict[str, float] = {}
    cands: dict[str, _Candidate] = {}
    explains: dict[str, tuple[str, ...]] = {}
    for svc, t in tracks.items():
        value, cand = -1.0, t.each()[0]
        for c in t.each():
            v = c.strength
            if v > 0 and c.best.onset is not None:
                v /= 1.0 + cfg.onset_decay * (c.best.onset - first)
            if c.propagating and svc in blamed:
                v *= cfg.explained_factor
            elif c.propagating and svc in loaded and c.best.kind == "latency":
                v *= cfg.explained_factor  # saturation under more traffic: a victim
            if v > value:
                value, cand = v, c
        cands[svc] = cand
        if topology is not None and svc in topology:
            up = topology.upstream(svc)
            explains[svc] = tuple(sorted(u for u in up if svc in blamed.get(u, ())))
            if up:
                value *= 1.0 + cfg.caller_credit * len(explains[svc]) / len(up)
        if svc in changed:
            value *= 1.0 + cfg.change_credit
        raw[svc] = value

    total = sum(raw.values())
    out: list[RankedCause] = []
    # ties (mostly services with nothing above threshold) go to sub-threshold evidence
    for svc in sorted(raw, key=lambda s: (-raw[s], -tracks[s].hint, s)):
        cand = cands[svc]
        details = _details(cand, by_service.get(svc, ()), cfg, after, topology,
                           explains.get(svc, ()), blamed.get(svc), tracks, loaded.get(svc))
        details += near.get(svc, ())
        out.append(
            RankedCause(
                service=svc,
                metric=cand.best.metric,
                fault=_fault_of(cand),
                score=raw[svc],
                confidence=raw[svc] / total if total > 0 else 0.0,
                onset=cand.best.onset,
                explains=explains.get(svc, ()),
                details=details,
            )
        )
    return out


def _fault_of(cand: _Candidate) -> FaultKind:
    if cand.lost:
        return "errors"  # it fails requests before they reach its dependencies
    s = cand.best
    if s.role == "incoming" or s.role == "outgoing":
        return "network" if s.kind == "latency" else s.kind
    return s.kind


def _metric(s: SeriesScore, after: MetricFrame) -> MetricEvidence:
    return MetricEvidence(
        s.service, s.metric, before=s.before, after=math.nan if s.vanished else s.after,
        strength=s.strength, at=after.time_of(s.onset) if s.onset is not None else None,
        stopped=s.vanished,
    )


def _details(
    cand: _Candidate,
    scores: Sequence[SeriesScore],  # the cause's own series
    cfg: RankSettings,
    after: MetricFrame,
    topology: Topology | None,
    explains: tuple[str, ...],
    blamed: list[str] | None,
    tracks: dict[str, _Tracks],
    load: SeriesScore | None,
) -> tuple[CauseEvidence, ...]:
    """The cause's own strongest series, then what ties it to the rest of the graph."""
    svc = cand.service
    items: list[CauseEvidence] = []
    if cand.lost:
        for edge in sorted(cand.lost, key=lambda e: -e.value)[: cfg.evidence_series]:
            items.append(_metric(edge.series, after))
            items.append(PathEvidence((edge.caller, edge.callee), "stopped_calling"))
    own = sorted((s for s in scores if s.strength >= cfg.scores.threshold
                  and s.role != "outgoing" and not (topology is not None and is_drop(s))),
                 key=lambda s: -s.strength)
    if not cand.lost:  # the indicator first, then the next strongest
        own = [cand.best, *(s for s in own if s is not cand.best)]
    items.extend(_metric(s, after) for s in own[: cfg.evidence_series])
    if topology is not None:
        for up in explains[:3]:
            path = topology.path(up, svc)
            if path:
                items.append(PathEvidence(tuple(path), "explains"))
        if blamed:
            by = max(blamed, key=lambda d: max(c.strength for c in tracks[d].each()))
            path = topology.path(svc, by)
            if path:
                items.append(PathEvidence(tuple(path), "explained_by"))
    if load is not None and not blamed and cand.propagating and cand.best.kind == "latency":
        items.append(_metric(load, after))
        callers = topology.callers(svc) if topology is not None and svc in topology else ()
        for caller in callers[:3]:
            items.append(PathEvidence((caller, svc), "more_load"))
    return tuple(items)
