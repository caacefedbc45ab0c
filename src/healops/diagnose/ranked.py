"""The symptom diagnosis, checked against the metric ranking that ``healops bench rca`` measures.

``RankedDiagnoser`` runs the symptom diagnosis first (fault patterns, runbooks, security,
ambiguity between patterns; :mod:`healops.diagnose.symptoms`), then
:func:`~healops.diagnose.rca.rank.rank_root_causes` over the incident's window of the
engine's metric history: *before* is the last ``rank_before_samples`` samples before the
incident's first live symptom, *after* runs from that symptom to now. It merges the two
conservatively (``docs/adr/0008-ranked-diagnosis-merge.md``):

1. **Evidence.** Every hypothesis carries its component's place in the ranking (rank,
   score, share), and a ranked component's strongest series.
2. **More hypotheses.** Ranked services no hypothesis names, strong enough to stand as
   their own cause (``split_causes``' share of the top score), are added after the
   others, with lower confidence and no runbook: a person sees them, nothing acts on them.
3. **Disagreement.** The ranking never changes which causes are acted on. Only where a
   cause rests on service-level propagating symptoms alone (errors, latency, down on the
   service, not one instance) and the ranking puts a service it calls far above it
   (``disagree_ratio`` times its score, or it scored nothing) while no cause names that
   callee, the diagnosis is marked ambiguous so policy asks a human. Local faults (an
   instance, a disk, a certificate, memory) are never compared: a service-level ranking
   cannot see them better than the symptoms do.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

from healops.config.models import DiagnosisConfig
from healops.diagnose.base import Diagnoser, World
from healops.diagnose.rca.rank import RankedCause, RankSettings, rank_root_causes
from healops.diagnose.symptoms import SymptomDiagnoser
from healops.domain.diagnosis import Diagnosis, Evidence, Hypothesis
from healops.domain.incidents import Incident
from healops.domain.topology import Topology

__all__ = ["RankedDiagnoser"]

_PROPAGATING = frozenset({"errors", "latency", "down"})


class RankedDiagnoser:
    """A :class:`~healops.diagnose.base.Diagnoser` that adds the metric ranking's view."""

    def __init__(
        self,
        config: DiagnosisConfig,
        *,
        inner: Diagnoser | None = None,
        settings: RankSettings | None = None,
        extra: int = 3,  # ranked services added as hypotheses, at most
        min_share: float = 0.3,  # of the top score, for a ranked service to be added
        disagree_ratio: float = 3.0,
        min_after: int = 3,  # samples after the first symptom before the ranking is run
    ) -> None:
        self.config = config
        self.inner: Diagnoser = inner if inner is not None else SymptomDiagnoser(config)
        self.settings = settings or RankSettings()
        self.extra = extra
        self.min_share = min_share
        self.disagree_ratio = disagree_ratio
        self.min_after = min_after

    def __call__(self, incident: Incident, world: World, now: float) -> Diagnosis:
        d = self.inner(incident, world, now)
        ranking = self.rank(incident, world, now)
        if not ranking or not d.hypotheses:
            return d
        return merge(d, ranking, world.topology, incident, extra=self.extra,
                     min_share=self.min_share, disagree_ratio=self.disagree_ratio)

    def rank(self, incident: Incident, world: World, now: float) -> list[RankedCause]:
        """The ranking over the incident's window; empty without enough history."""
        history = world.history
        starts = [incident.anomalies[s].started_at for s in incident.live
                  if s in incident.anomalies]
        if history is None or not starts:
            return []
        first = min(starts)
        before = history.frame(-math.inf, math.nextafter(first, -math.inf),
                               limit=self.config.rank_before_samples)
        after = history.frame(first, now)
        if len(before) < 4 or len(after) < self.min_after:
            return []
        return rank_root_causes(before, after, world.topology, world.changes, self.settings)


def merge(
    d: Diagnosis,
    ranking: Sequence[RankedCause],
    topology: Topology,
    incident: Incident,
    *,
    extra: int = 3,
    min_share: float = 0.3,
    disagree_ratio: float = 3.0,
) -> Diagnosis:
    """``d`` with the ranking's evidence, its further candidates and, where it strongly
    disagrees about a propagating symptom, the ambiguity flag (see the module's rules)."""
    place = {c.service: (i, c) for i, c in enumerate(ranking)}
    top = ranking[0]

    def annotate(h: Hypothesis) -> Hypothesis:
        found = place.get(h.component)
        if found is None:
            ev = Evidence("rank", f"metric ranking: {h.component} not ranked (no series)")
        else:
            i, c = found
            ev = Evidence("rank", f"metric ranking: {h.component} #{i + 1} of {len(ranking)}"
                          f" (score {c.score:.3g}, share {c.confidence:.0%}, {c.fault} on "
                          f"{c.metric})", series=f"{c.service}/{c.metric}")
        # after the first symptom, so an escalation's first lines show it
        return replace(h, evidence=(*h.evidence[:1], ev, *h.evidence[1:]))

    new = {id(h): annotate(h) for h in (*d.hypotheses, *d.causes)}
    hypotheses = [new[id(h)] for h in d.hypotheses]
    causes = tuple(new[id(h)] for h in d.causes)

    named = {h.component for h in d.hypotheses}
    floor = min(h.confidence for h in d.hypotheses)
    added = 0
    for i, c in enumerate(ranking):
        if added >= extra or top.score <= 0 or c.score < min_share * top.score:
            break
        if c.service in named:
            continue
        ev = (Evidence("rank", f"metric ranking: {c.service} #{i + 1} of {len(ranking)} "
                       f"(score {c.score:.3g}, share {c.confidence:.0%}); no symptom rule "
                       "names it", series=f"{c.service}/{c.metric}"), *c.evidence[:4])
        conf = round(min(c.confidence, floor) * 0.5, 3)
        hypotheses.append(Hypothesis(c.service, f"ranked_{c.fault}", conf, c.service, ev))
        added += 1

    reasons = [d.reason] if d.reason else []
    ambiguous = d.ambiguous
    cause_components = {c.component for c in d.causes}
    for cause in d.causes:
        if not _propagating_only(cause, incident):
            continue
        _, mine = place.get(cause.component, (None, None))
        mine_score = mine.score if mine is not None else 0.0
        callees = topology.downstream(cause.component) if cause.component in topology else set()
        for c in ranking:
            if c.service in cause_components or c.service not in callees or c.score <= 0:
                continue
            if mine_score <= 0 or c.score >= disagree_ratio * mine_score:
                ambiguous = True
                reasons.append(f"metric ranking puts {c.service}, which {cause.component} "
                               f"calls, above it (score {c.score:.3g} vs {mine_score:.3g})")
            break  # only the callee ranked highest counts
    return replace(d, hypotheses=tuple(hypotheses), causes=causes, ambiguous=ambiguous,
                   reason="; ".join(reasons))


def _propagating_only(cause: Hypothesis, incident: Incident) -> bool:
    """A service-level cause resting on errors, latency or down alone."""
    if cause.target and cause.target != cause.component:
        return False  # one instance: local
    kinds = {incident.anomalies[s].kind for s in cause.explains if s in incident.anomalies
             and incident.anomalies[s].service == cause.component}
    return bool(kinds) and kinds <= _PROPAGATING
