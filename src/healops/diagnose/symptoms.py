"""Diagnosis from symptoms, topology and recent changes.

1. A propagating symptom (errors, latency, down) on a service is *explained* when a service
   it calls, directly or not, shows a propagating symptom that started no later (the rule
   of :mod:`healops.diagnose.rca.propagation`, shared with the metric ranking). Callers'
   latency is evidence about their callees, not a cause.
2. Every service left with unexplained or local symptoms is a root candidate. Unrelated
   simultaneous failures therefore come out as separate candidates, each its own cause.
3. Each candidate's symptoms are matched against the configured fault patterns (data, see
   ``diagnosis.faults``); the best match is the cause, the rest are alternatives. When the
   best two patterns are within ``ambiguity_margin``, the diagnosis is ambiguous and policy
   asks a human. A candidate no pattern fits is an ``unknown`` fault with no runbook.
"""

from __future__ import annotations

from collections import defaultdict

from healops.config.models import DiagnosisConfig, FaultPattern
from healops.diagnose.base import World
from healops.diagnose.rca.changes import rank_changes
from healops.diagnose.rca.propagation import explaining_callees
from healops.domain.diagnosis import Diagnosis, Evidence, Hypothesis
from healops.domain.incidents import Incident
from healops.domain.signals import Anomaly, ChangeEvent

__all__ = ["SymptomDiagnoser"]

_PROPAGATING = frozenset({"errors", "latency", "down"})
_ONSET_SLACK_S = 15.0


class SymptomDiagnoser:
    def __init__(self, config: DiagnosisConfig) -> None:
        self.config = config

    def __call__(self, incident: Incident, world: World, now: float) -> Diagnosis:
        live = [incident.anomalies[s] for s in sorted(incident.live) if s in incident.anomalies]
        if not live:
            return Diagnosis(incident.id, (), reason="no live symptoms")
        by_service: dict[str, list[Anomaly]] = defaultdict(list)
        for a in live:
            by_service[a.service].append(a)
        # when each service's propagating symptoms began: what can explain a caller's
        started = {
            svc: min(a.started_at for a in anomalies if a.kind in _PROPAGATING)
            for svc, anomalies in by_service.items()
            if any(a.kind in _PROPAGATING for a in anomalies)
        }
        candidates: dict[str, list[Anomaly]] = {}
        explained_by: dict[str, str] = {}
        for svc, anomalies in by_service.items():
            own = []
            for a in anomalies:
                cause = self._explainer(a, svc, started, world) if a.kind in _PROPAGATING \
                    else None
                if cause is None:
                    own.append(a)
                else:
                    explained_by[a.id] = cause
            if own:
                candidates[svc] = own
        hypotheses: list[Hypothesis] = []
        causes: list[Hypothesis] = []
        ambiguous = False
        reasons: list[str] = []
        for svc in sorted(candidates, key=lambda s: min(a.started_at for a in candidates[s])):
            earlier = [a for a in incident.anomalies.values()
                       if a.service == svc and a.id not in incident.live]
            ranked = self._rank_patterns(svc, candidates[svc], by_service, world, now,
                                         explained_by, earlier)
            hypotheses.extend(ranked)
            causes.append(ranked[0])
            if len(ranked) > 1 and ranked[0].confidence - ranked[1].confidence \
                    < self.config.ambiguity_margin:
                ambiguous = True
                reasons.append(f"{svc}: {ranked[0].fault} vs {ranked[1].fault} too close")
        hypotheses.sort(key=lambda h: -h.confidence)
        similar = tuple(s for c in causes for s in world.similar(f"{c.fault}:{c.component}"))
        return Diagnosis(
            incident.id,
            tuple(hypotheses),
            tuple(causes),
            ambiguous=ambiguous,
            reason="; ".join(reasons) or f"{len(causes)} independent cause(s)",
            similar=similar[:5],
        )

    def _explainer(self, a: Anomaly, svc: str, started: dict[str, float],
                   world: World) -> str | None:
        """The first dependency that explains ``a``, by the rule the metric ranking uses."""
        found = explaining_callees(svc, a.started_at, started, world.topology,
                                   slack=_ONSET_SLACK_S)
        return found[0] if found else None

    def _recent_deploy(self, svc: str, within: float, world: World,
                       now: float) -> ChangeEvent | None:
        """The latest deploy of ``svc`` within ``within`` seconds before ``now``."""
        deploys = [ch for ch in world.changes if ch.kind == "deploy"]
        ranked = rank_changes(deploys, {svc: now}, world.topology, window_s=within, max_hops=0)
        return ranked[0].change if ranked else None

    def _rank_patterns(
        self,
        svc: str,
        own: list[Anomaly],
        by_service: dict[str, list[Anomaly]],
        world: World,
        now: float,
        explained_by: dict[str, str],
        earlier: list[Anomaly],
    ) -> list[Hypothesis]:
        kinds = {a.kind for a in own}
        n_inst = world.instance_count(svc)
        scored: list[tuple[float, FaultPattern, ChangeEvent | None, str]] = []
        for p in self.config.faults:
            if not set(p.all_of) <= kinds:
                continue
            if p.any_of and not kinds & set(p.any_of):
                continue
            if kinds & set(p.none_of):
                continue
            relevant = [a for a in own if a.kind in set(p.all_of) | set(p.any_of)] or own
            insts = {a.instance for a in relevant if a.instance}
            if p.scope == "single_instance" and not (len(insts) == 1 and n_inst >= 2):
                continue
            # A service-wide fault need not show on every instance at once (crash loops
            # take turns): instances its symptoms were seen on earlier in the incident count.
            seen = insts | {a.instance for a in earlier if a.instance
                            and a.kind in set(p.all_of) | set(p.any_of)}
            if p.scope == "service" and n_inst >= 2 and len(seen) == 1:
                continue
            change = None
            if p.change_within_s is not None:
                change = self._recent_deploy(svc, p.change_within_s, world, now)
                if change is None:
                    continue
            if p.deepest and any(b.kind in _PROPAGATING
                                 for callee in world.topology.downstream(svc)
                                 for b in by_service.get(callee, ())):
                continue
            matched = len(p.all_of) + (1 if p.any_of else 0) + len(p.none_of) * 0.25 \
                + (1 if change else 0) + (1 if p.scope != "any" else 0)
            conf = min(0.99, p.weight * (0.7 + 0.06 * matched)
                       * (0.85 + 0.15 * max(a.score for a in relevant)))
            target = next(iter(insts)) if len(insts) == 1 else svc
            scored.append((conf, p, change, target))
        scored.sort(key=lambda t: -t[0])
        callers = sorted(s for s, src in explained_by.items() if src == svc)
        evidence_common = [
            Evidence("metric", f"{a.kind}: {a.key} = {a.value:.4g} (baseline {a.baseline:.4g})",
                     series=a.id, before=a.baseline, after=a.value, ts=a.started_at)
            for a in sorted(own, key=lambda a: a.started_at)
        ]
        for sid in callers[:5]:
            caller = sid.split("service=\"", 1)[-1].split("\"", 1)[0]
            path = world.topology.path(caller, svc)
            evidence_common.append(Evidence("path", f"{sid} explained via {' -> '.join(path)}",
                                            series=sid))
        out: list[Hypothesis] = []
        for conf, p, change, target in scored:
            ev = list(evidence_common)
            if change is not None:
                ev.append(Evidence("change", f"deploy of {svc} {change.previous_version} -> "
                                   f"{change.version} at {change.ts:.0f}", ts=change.ts))
            runbook = next((r.name for r in world.runbooks if r.fault == p.name
                            and (not r.services or svc in r.services)), "")
            if runbook:
                ev.append(Evidence("runbook", f"matches runbook {runbook}"))
            out.append(Hypothesis(svc, p.name, round(conf, 3), target, tuple(ev), runbook,
                                  tuple(a.id for a in own) + tuple(callers), p.security))
        if not out:
            out.append(Hypothesis(svc, "unknown", 0.5, svc, tuple(evidence_common), "",
                                  tuple(a.id for a in own) + tuple(callers)))
        return out
