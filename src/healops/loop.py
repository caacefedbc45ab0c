"""The loop's imperative shell: feeds signals through the pure stages, journals every
action, persists every transition, and pages humans. All decisions live in the stages.

One call to ``Engine.step(signals, now)`` advances everything by one tick.

Crash safety: every change of an incident is written as a checkpoint of the engine's working
state (plans, runs, checks) next to the incident's record, and before an action's intent.
``Engine.recover(now)``, called by ``bootstrap()`` before anything else, settles the
journal's intents left without a result (see ``healops.act.journal``) and takes the
incidents in flight up again from their checkpoints (``docs/adr/0006-reconcile-at-startup.md``).
"""

from __future__ import annotations

import enum
import itertools
import logging
import pickle
import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from pydantic import BaseModel, ConfigDict

from healops.act.base import StepRequest
from healops.act.journal import ActionJournal, Reconciled
from healops.config.models import HealopsConfig
from healops.correlate.grouping import Correlator
from healops.correlate.maintenance import MaintenanceMuter
from healops.correlate.silences import SilenceMuter
from healops.detect.symptoms import SymptomDetector
from healops.diagnose.base import Diagnoser, World
from healops.diagnose.history import SeriesHistory
from healops.domain.actions import ActionResult, Outcome, OutcomeStatus
from healops.domain.diagnosis import Diagnosis
from healops.domain.incidents import Incident, IncidentState
from healops.domain.plans import Plan, PlannedStep, Verdict
from healops.domain.signals import Alert, Anomaly, ChangeEvent, MetricBatch, SeriesKey, Signal
from healops.domain.topology import Topology
from healops.itsm.escalation import Pager, build_escalation
from healops.learn.stats import OutcomeStats
from healops.plan.base import Planner
from healops.policy.base import Policy, PolicyContext
from healops.policy.rules import DISRUPTIVE, RulePolicy
from healops.store.base import Store
from healops.verify.symptoms import Check, verify_step

__all__ = ["Engine", "Recovery", "RunState"]

log = logging.getLogger(__name__)

_CHANGE_MEMORY_S = 86_400.0
_DETECTOR_CHECKPOINT_S = 300.0  # how often the detectors' state is kept for a restart
_SIDE_EFFECT_KINDS = frozenset({"restarts", "down", "traffic", "saturation"})
_PROPAGATING = frozenset({"errors", "latency", "down"})  # as in diagnose.symptoms
_ONSET_SLACK_S = 15.0  # as in diagnose.symptoms


class RunState(enum.StrEnum):
    PENDING = "pending"
    AWAITING_APPROVAL = "awaiting_approval"
    VERIFYING = "verifying"
    DONE = "done"
    FAILED = "failed"


@dataclass
class PlanRun:
    plan: Plan
    index: int
    step: int = 0
    state: RunState = RunState.PENDING
    check: Check | None = None
    explains: tuple[str, ...] = ()
    approved: bool = False


@dataclass
class _Work:
    diagnosis: Diagnosis | None = None
    runs: list[PlanRun] = field(default_factory=list)
    tried: list[str] = field(default_factory=list)
    persisted: int = 0
    diagnosed_at: float = -1.0


class _Checkpoint(BaseModel):
    """The engine's working state of one incident, as written next to its record."""

    model_config = ConfigDict(ser_json_inf_nan="constants", defer_build=True)
    incident: Incident
    diagnosis: Diagnosis | None
    runs: list[PlanRun]
    tried: list[str]
    diagnosed_at: float


_INCIDENT_NUMBER = re.compile(r"INC-(\d+)")


@dataclass(frozen=True, slots=True)
class Recovery:
    """What ``Engine.recover`` found after a restart, and what it did."""

    reconciled: tuple[Reconciled, ...] = ()  # intents without a result, settled
    restored: tuple[str, ...] = ()  # incidents in flight, taken up again
    escalated: tuple[str, ...] = ()  # handed to a person: an action's effect is unknown
    warm_detector: bool = False  # the detectors' state came back (else they start cold)


class Engine:
    def __init__(
        self,
        config: HealopsConfig,
        *,
        store: Store,
        journal: ActionJournal,
        diagnoser: Diagnoser,
        planner: Planner,
        policy: Policy,
        pager: Pager,
        topology: Topology,
    ) -> None:
        self.config = config
        self.store = store
        self.journal = journal
        self.diagnoser = diagnoser
        self.planner = planner
        self.policy = policy
        self.pager = pager
        self.topology = topology
        self.detector = SymptomDetector(config.detection.rules,
                                        warmup_s=config.detection.warmup_s,
                                        halflife_s=config.detection.baseline_halflife_s)
        self._ids = itertools.count(1)
        self.correlator = Correlator(config.correlation, topology,
                                     new_id=lambda: f"INC-{next(self._ids):05d}")
        # Silences and maintenance windows mute anomalies before they reach an incident;
        # ``silences`` is the handle the API adds and expires silences through at runtime.
        self.silences = SilenceMuter.from_config(config.correlation.silences)
        self.correlator.muters = [self.silences,
                                  MaintenanceMuter.from_config(config.correlation.maintenance)]
        self.stats = OutcomeStats()
        self.changes: deque[ChangeEvent] = deque()
        self.instances: dict[str, set[str]] = {}
        # the last samples of every series, for the metric ranking (read via World.history)
        self.history = SeriesHistory(config.diagnosis.history_samples) \
            if config.diagnosis.rank else None
        self.work: dict[str, _Work] = {}
        self.incidents: dict[str, Incident] = {}
        self._target_actions: dict[tuple[str, str], list[float]] = {}  # (target, action)
        self._all_actions: list[float] = []
        self._sig_failures: dict[str, list[float]] = {}
        self._busy: dict[str, str] = {}  # target -> incident id: one action per target
        self._history: dict[str, list[str]] = {}
        self._alert_keys: dict[str, Anomaly] = {}
        self._side_effects: list[tuple[str, float, float]] = []  # target, from, until
        # After a restart the detectors start cold: until they have warmed up, silence is
        # not proof of health, so nothing resolves as quiet and verification waits.
        self._blind_until = float("-inf")
        self._detector_saved_at = float("-inf")
        self.last_recovery = Recovery()

    # ---- ingestion -------------------------------------------------------------------
    def step(self, signals: Iterable[Signal], now: float) -> None:
        fired: list[Anomaly] = []
        firing: list[Anomaly] = []
        cleared: list[Anomaly] = []
        for sig in signals:
            if isinstance(sig, MetricBatch):
                if len(self.instances) == 0 or sig.keys is not getattr(self, "_seen_keys", None):
                    self._learn_instances(sig.keys)
                upd = self.detector.observe(sig)
                if self.history is not None:
                    self.history.observe(sig)
                fired += upd.fired
                firing += upd.firing
                cleared += upd.cleared
            elif isinstance(sig, ChangeEvent):
                self.changes.append(sig)
            elif isinstance(sig, Alert):
                self._alert(sig, now, fired, cleared)
        for a in self._alert_keys.values():
            if a not in fired:
                firing.append(a)
        while self.changes and self.changes[0].ts < now - _CHANGE_MEMORY_S:
            self.changes.popleft()
        res = self.correlator.observe(fired, firing, cleared, now)
        for inc in res.opened:
            self.incidents[inc.id] = inc
            self.work[inc.id] = _Work()
        for inc in list(self.correlator.active.values()):
            self._advance(inc, now)
        for inc in res.quiet:
            self._maybe_resolve(inc, now)
        for inc in list(self.correlator.active.values()):
            self._persist(inc)
        if now - self._detector_saved_at >= _DETECTOR_CHECKPOINT_S:
            # Baselines learned over hours must survive a restart: a cold detector would
            # learn a fault that is still present as normal.
            self.store.save_state("detector", pickle.dumps(self.detector), now)
            self._detector_saved_at = now

    def _learn_instances(self, keys: tuple[SeriesKey, ...]) -> None:
        self._seen_keys = keys
        for k in keys:
            if k.service and k.instance:
                self.instances.setdefault(k.service, set()).add(k.instance)

    def _alert(self, alert: Alert, now: float, fired: list[Anomaly],
               cleared: list[Anomaly]) -> None:
        key = SeriesKey("alert:" + alert.name, alert.labels)
        kind = alert.label("symptom", alert.name)
        a = Anomaly(key, kind, 1.0, 1.0, 0.0, alert.starts_at, now, detail=alert.source)
        sid = str(key)
        if alert.status == "firing" and sid not in self._alert_keys:
            self._alert_keys[sid] = a
            fired.append(a)
        elif alert.status == "resolved" and sid in self._alert_keys:
            del self._alert_keys[sid]
            cleared.append(a)

    # ---- the incident state machine --------------------------------------------------
    def _world(self) -> World:
        return World(self.topology, tuple(self.changes),
                     {k: frozenset(v) for k, v in self.instances.items()},
                     self.config.runbooks, self._similar, self.history)

    def _similar(self, signature: str, *, limit: int = 5) -> list[str]:
        """Past incidents like this one and what fixed them: the same fault on the same
        component first, then the same fault on a service within two calls of it (a
        neighbour's fix is often the one that works here), most recent first."""
        fault, _, component = signature.partition(":")
        out = [f"same fault, same service: {e}"
               for e in reversed(self._history.get(signature, [])[-3:])]
        near: list[tuple[int, str]] = []
        for sig, fixes in self._history.items():
            f, _, other = sig.partition(":")
            if f != fault or other == component or not fixes:
                continue
            d = self.topology.distance(component, other) if component in self.topology \
                and other in self.topology else None
            if d is not None and d <= 2:
                near.append((d, f"same fault on {other} ({d} call{'s' if d > 1 else ''} "
                                f"away): {fixes[-1]}"))
        out += [text for _, text in sorted(near)]
        return out[:limit]

    def _advance(self, inc: Incident, now: float) -> None:
        w = self.work[inc.id]
        if inc.state in (IncidentState.RESOLVED, IncidentState.ESCALATED):
            return
        acting = any(r.state in (RunState.VERIFYING, RunState.AWAITING_APPROVAL)
                     for r in w.runs) or inc.state is not IncidentState.OPEN and w.runs
        if inc.flapping and not acting and inc.state in (IncidentState.OPEN,
                                                         IncidentState.DIAGNOSING,
                                                         IncidentState.SUPPRESSED):
            if inc.state is not IncidentState.SUPPRESSED:
                inc.transition(IncidentState.SUPPRESSED, now=now,
                               note="flapping: symptoms fire and clear repeatedly; no action")
            return
        if w.diagnosis is None:
            # Act only on a symptom that has held without a break for settle_s: a burst that
            # fires and clears again is noise until it proves otherwise (or flaps).
            held = max((inc.anomalies[s].held_s for s in inc.live), default=-1.0)
            if held < self.config.diagnosis.settle_s:
                return
        if inc.state in (IncidentState.OPEN, IncidentState.SUPPRESSED):
            inc.transition(IncidentState.DIAGNOSING, now=now,
                           note=f"{len(inc.live)} live symptom(s) on {sorted(inc.services)}")
        if self._needs_diagnosis(inc, w, now):
            self._diagnose(inc, w, now)
        for run in w.runs:
            self._drive(inc, w, run, now)
            if not inc.active:  # escalated while driving this run
                return

    def _needs_diagnosis(self, inc: Incident, w: _Work, now: float) -> bool:
        if w.diagnosis is None:
            return True
        if now - w.diagnosed_at < self.config.diagnosis.settle_s:
            return False
        covered = {s for r in w.runs for s in r.explains}
        # Callers' symptoms are a handled cause's echo while its service still shows a
        # propagating symptom: the diagnosis would explain them by it again. Once it is
        # clear they get a look, to find a fault it masked (the diagnosis below still
        # attributes them to the action when they are no fault of their own).
        live = {inc.anomalies[s].service for s in inc.live
                if inc.anomalies[s].kind in _PROPAGATING}
        handled = {svc: t for svc, t in self._handled(inc, w, now).items() if svc in live}
        return any(s not in covered and not self._expected(inc.anomalies[s])
                   and not self._propagated(inc.anomalies[s], handled)
                   for s in inc.live)

    def _handled(self, inc: Incident, w: _Work, now: float) -> dict[str, float]:
        """Services whose cause a run of this incident is handling (deciding, awaiting
        approval, verifying, or acted on within its action's side-effect window), each
        with the onset of that cause's symptoms."""
        recent = {svc for svc, _, until in self._side_effects if until >= now}
        out: dict[str, float] = {}
        for r in w.runs:
            acted = {st.service for st in r.plan.steps}
            if r.state not in (RunState.PENDING, RunState.AWAITING_APPROVAL,
                               RunState.VERIFYING) and not acted & recent:
                continue
            onset = min((inc.anomalies[s].started_at for s in r.explains
                         if s in inc.anomalies), default=now)
            services = {r.plan.signature.rpartition(":")[2]}
            if r.check is not None:  # it acted
                services |= acted & recent
            for svc in services:
                out[svc] = min(onset, out.get(svc, onset))
        return out

    def _propagated(self, a: Anomaly, handled: dict[str, float]) -> bool:
        """A propagating symptom (errors, latency, down) that began no earlier than a
        handled cause, on a service that calls that cause's service, directly or not: its
        echo while the cause is handled and as its service recovers (callers clear after
        their callee, and the fix may briefly take it down), not a new cause."""
        if a.kind not in _PROPAGATING or a.service not in self.topology:
            return False
        return any(a.started_at >= handled[svc] - _ONSET_SLACK_S
                   for svc in self.topology.downstream(a.service) if svc in handled)

    def _expected(self, a: Anomaly) -> bool:
        """Restarts and brief downs on a target we just acted on are our own doing."""
        if a.kind not in _SIDE_EFFECT_KINDS:
            return False
        return any(start - 1 <= a.started_at <= until and svc == a.service
                   for svc, start, until in self._side_effects)

    def _diagnose(self, inc: Incident, w: _Work, now: float) -> None:
        d = self.diagnoser(inc, self._world(), now)
        w.diagnosed_at = now
        if not d.causes:
            return
        # Our own action's side effects are no new cause, and neither is its echo on
        # callers: a cause with no runbook resting on propagating symptoms alone, on a
        # service that calls one being handled. A cause with its own evidence (a runbook
        # matched: a deploy, an instance, a disk) still opens.
        handled = self._handled(inc, w, now)
        d = replace(d, causes=tuple(c for c in d.causes if not all(
            self._expected(inc.anomalies[s]) or not c.runbook
            and self._propagated(inc.anomalies[s], handled)
            for s in c.explains if s in inc.anomalies)))
        if not d.causes:
            return
        known = {(r.plan.signature) for r in w.runs}
        plans = self.planner(d, self.config.runbooks)
        new = [(p, c) for p, c in zip(plans, d.causes, strict=True) if p.signature not in known]
        if w.diagnosis is None:
            inc.signature = d.causes[0].fault + ":" + d.causes[0].component
        w.diagnosis = d
        inc.note(now, "diagnosis", d.reason,
                 hypotheses=[f"{h.fault}:{h.target or h.component}:{h.confidence:.2f}"
                             for h in d.hypotheses[:5]], ambiguous=d.ambiguous)
        for p, cause in new:
            w.runs.append(PlanRun(p, len(w.runs), explains=cause.explains))
        for r in w.runs:  # later symptoms of a known cause are covered by its run too
            for p, cause in zip(plans, d.causes, strict=True):
                if p.signature == r.plan.signature:
                    r.explains = tuple(dict.fromkeys(r.explains + cause.explains))

    def _context(self, run: PlanRun, step: PlannedStep) -> PolicyContext:
        disrupted = self._disrupted(step.service, step.target)
        replicas = max(len(self.instances.get(step.service, ())),
                       self.topology.services[step.service].replicas
                       if step.service in self.topology else 1)
        touches = replicas if step.target == step.service else 1
        same = self._target_actions.get((step.target, step.action), ())
        return PolicyContext(run.plan, tuple(same),
                             tuple(self._all_actions),
                             tuple(self._sig_failures.get(run.plan.signature, ())),
                             replicas, disrupted, touches,
                             self.stats.streak(run.plan.signature, step.action))

    def _disrupted(self, service: str, target: str) -> int:
        """Instances of ``service``, other than ``target``, that an action of ours has out
        of service now. Only the service's own instances count (``api-gateway-1`` is not
        ``api``'s), and only disruptive actions (a disk clean-up is not); a busy instance
        whose action is not known counts, to err on the safe side."""
        instances = self.instances.get(service, set())
        n = 0
        for t, iid in self._busy.items():
            if t == target or t not in instances:
                continue
            w = self.work.get(iid)
            actions = {r.plan.steps[r.step].action for r in (w.runs if w else ())
                       if r.step < len(r.plan.steps) and r.plan.steps[r.step].target == t}
            if not actions or actions & DISRUPTIVE:
                n += 1
        return n

    def _drive(self, inc: Incident, w: _Work, run: PlanRun, now: float) -> None:
        if run.state is RunState.PENDING:
            if not run.plan.steps:
                # Nothing to run (security, no runbook): the decision is still a decision,
                # stored with its reason like any other.
                none = PlannedStep("none", inc.service, inc.service)
                decision = self.policy(none, self._context(run, none), now)
                self.store.record_decision(inc.id, none.action, none.target, decision, now)
                inc.note(now, "decision", f"no action: {decision.verdict} ({decision.reason})",
                         rule=decision.rule)
                self._escalate(inc, w, now, decision.reason)
                return
            step = run.plan.steps[run.step]
            if self._busy.get(step.target, inc.id) != inc.id:
                return  # another incident's action holds this target; wait
            decision = self.policy(step, self._context(run, step), now)
            if run.approved and decision.verdict is Verdict.APPROVAL:
                decision = decision.__class__(Verdict.AUTO, "approved by a human", "approval")
            self.store.record_decision(inc.id, step.action, step.target, decision, now)
            inc.note(now, "decision", f"{step.action} {step.target}: {decision.verdict} "
                     f"({decision.reason})", rule=decision.rule)
            if decision.verdict is Verdict.AUTO:
                self._act(inc, w, run, step, now)
            elif decision.verdict is Verdict.APPROVAL:
                run.state = RunState.AWAITING_APPROVAL
                if inc.state is not IncidentState.AWAITING_APPROVAL:
                    inc.transition(IncidentState.AWAITING_APPROVAL, now=now,
                                   note=f"approval needed: {decision.reason}")
                self.pager.page(build_escalation(inc, w.diagnosis, [run.plan], w.tried,
                                                 kind="approval", reason=decision.reason))
            else:
                self._escalate(inc, w, now, decision.reason)
        elif run.state is RunState.VERIFYING and run.check is not None:
            step = run.plan.steps[run.step]
            service_live = {s for s in inc.live if inc.anomalies[s].service == step.service
                            and s in run.explains
                            and inc.anomalies[s].kind not in step.verify_ignore_kinds}
            verdict = verify_step(run.check, inc.live, service_live, now)
            if verdict == "wait":
                return
            self._busy.pop(step.target, None)
            ok = verdict == "success"
            self.stats.record(run.plan.signature, step.action, ok)
            self.store.record_outcome(Outcome(inc.id, run.plan.signature, step.action,
                                              OutcomeStatus.SUCCESS if ok else
                                              OutcomeStatus.FAILURE, now))
            persisting = sorted(s for s in run.check.series if s in inc.live) \
                or sorted(service_live)
            inc.note(now, "verify", f"{step.action} {step.target}: " + (
                "symptoms cleared" if ok else "symptoms persist: " + ", ".join(persisting[:5])))
            w.tried.append(f"{step.action} {step.target}: {'success' if ok else 'failed'}")
            if ok and step.then == "continue" and run.step + 1 < len(run.plan.steps):
                run.step += 1
                run.state = RunState.PENDING
                return
            if ok:
                run.state = RunState.DONE
                self._history.setdefault(run.plan.signature, []).append(
                    f"{inc.id}: {step.action} {step.target} fixed it")
                if inc.state is IncidentState.VERIFYING and all(
                        r.state is RunState.DONE for r in w.runs):
                    inc.transition(IncidentState.DIAGNOSING, now=now,
                                   note="all causes handled; waiting for quiet")
                return
            self._sig_failures.setdefault(run.plan.signature, []).append(now)
            if step.on_failure == "next" and run.step + 1 < len(run.plan.steps):
                run.step += 1
                run.state = RunState.PENDING
                return
            if step.on_failure == "undo" and step.undo:
                self._persist(inc)  # write-ahead, as for any action
                self._act_raw(inc, w, step.undo, step, now)
            run.state = RunState.FAILED
            self._escalate(inc, w, now, f"{step.action} {step.target} did not clear the symptoms")

    @staticmethod
    def _key(inc: Incident, run: PlanRun, step: PlannedStep) -> str:
        return f"{inc.id}/{run.index}/{run.step}/{step.action}"

    def _act(self, inc: Incident, w: _Work, run: PlanRun, step: PlannedStep,
             now: float, prior: ActionResult | None = None) -> None:
        """Run the step through the journal; with ``prior``, take up its journalled result."""
        if prior is None:
            self._persist(inc)  # write-ahead: the plan and the decision before the intent
        if inc.state is not IncidentState.ACTING:
            inc.transition(IncidentState.ACTING, now=now, note=f"running {run.plan.runbook}")
        result = self._act_raw(inc, w, step.action, step, now,
                               key=self._key(inc, run, step), prior=prior)
        self._busy[step.target] = inc.id
        if not result:
            self._busy.pop(step.target, None)
            self._sig_failures.setdefault(run.plan.signature, []).append(now)
            run.state = RunState.FAILED
            self._escalate(inc, w, now, f"{step.action} {step.target} failed to run"
                           + (f": {prior.message}" if prior is not None else ""))
            return
        run.state = RunState.VERIFYING
        judged = tuple(s for s in run.explains if s not in inc.anomalies
                       or inc.anomalies[s].kind not in step.verify_ignore_kinds)
        run.check = Check(max(now, self._blind_until), step.verify_window_s, judged,
                          step.service)
        inc.transition(IncidentState.VERIFYING, now=now,
                       note=f"verifying {step.action} {step.target} for "
                       f"{step.verify_window_s:.0f}s")

    def _act_raw(self, inc: Incident, w: _Work, action: str, step: PlannedStep, now: float,
                 key: str = "", prior: ActionResult | None = None) -> bool:
        key = key or f"{inc.id}/undo/{step.target}/{action}"
        req = StepRequest(action, step.target, dict(step.params), step.timeout_s)
        self._side_effects = [x for x in self._side_effects if x[2] >= now]
        self._side_effects.append((step.service, now, now + 3 * step.verify_window_s + 120))
        if prior is not None:  # journalled before a restart; its rate-limit entry came back
            result = prior
        else:
            result = self.journal.run(inc.id, req, key=key, now=now)
            self._target_actions.setdefault((step.target, action), []).append(now)
            self._all_actions.append(now)
            self._all_actions = [t for t in self._all_actions
                                 if t >= now - self.config.policy.global_limit.window_s]
        inc.note(now, "action", f"{action} {step.target}: "
                 f"{'ok' if result.ok else 'failed'} {result.message}".strip(),
                 key=key, ok=result.ok)
        w.tried.append(f"{action} {step.target}: {'ran' if result.ok else 'failed'}")
        return result.ok

    def _escalate(self, inc: Incident, w: _Work, now: float, reason: str) -> None:
        if inc.state is IncidentState.ESCALATED:
            return
        for r in w.runs:
            if r.state in (RunState.PENDING, RunState.AWAITING_APPROVAL):
                r.state = RunState.FAILED
        inc.transition(IncidentState.ESCALATED, now=now, note=f"escalated: {reason}")
        self.pager.page(build_escalation(inc, w.diagnosis, [r.plan for r in w.runs], w.tried,
                                         kind="escalation", reason=reason))

    def _maybe_resolve(self, inc: Incident, now: float) -> None:
        if now < self._blind_until:
            return
        w = self.work[inc.id]
        # An escalated incident is a person's now: a check left running when it escalated
        # is never driven again, so it must not hold the incident (and its target) open.
        # A plan half-way through (drain done, replace next) holds it until it is finished.
        if inc.state is not IncidentState.ESCALATED and any(
                r.state is RunState.VERIFYING or (r.state is RunState.PENDING and r.step > 0)
                for r in w.runs):
            return
        if inc.state is IncidentState.ESCALATED or inc.state is IncidentState.SUPPRESSED:
            note = "symptoms gone after escalation" if inc.state is IncidentState.ESCALATED \
                else "flapping settled"
        elif all(r.state is RunState.DONE for r in w.runs) and w.runs:
            note = "resolved by automation: verified"
        else:
            note = "recovered without action"
        inc.transition(IncidentState.RESOLVED, now=now, note=note)
        self._persist(inc)
        self.correlator.close(inc)
        for t, iid in list(self._busy.items()):
            if iid == inc.id:
                del self._busy[t]

    # ---- humans ----------------------------------------------------------------------
    def reconfigure(self, config: HealopsConfig) -> None:
        """Take a reloaded config (``healops.config.reload``: policy, runbooks, ITSM).
        The policy is stateless, so a rule policy is rebuilt; the caller holds the tick
        lock, so no decision sees half of each."""
        self.config = config
        if isinstance(self.policy, RulePolicy):
            self.policy = RulePolicy(config.policy)

    def approve(self, incident_id: str, *, by: str, now: float) -> bool:
        inc = self.incidents.get(incident_id)
        if inc is None or inc.state is not IncidentState.AWAITING_APPROVAL:
            return False
        w = self.work[incident_id]
        for r in w.runs:
            if r.state is RunState.AWAITING_APPROVAL:
                r.state = RunState.PENDING
                r.approved = True
        inc.note(now, "approval", f"approved by {by}")
        inc.transition(IncidentState.ACTING, now=now, note=f"approved by {by}")
        for r in w.runs:
            self._drive(inc, w, r, now)
        self._persist(inc)
        return True

    def reject(self, incident_id: str, *, by: str, now: float, comment: str = "") -> bool:
        inc = self.incidents.get(incident_id)
        if inc is None or inc.state is not IncidentState.AWAITING_APPROVAL:
            return False
        inc.note(now, "approval", f"rejected by {by}: {comment}".strip())
        self._escalate(inc, self.work[incident_id], now, f"action rejected by {by}")
        self._persist(inc)
        return True

    def _persist(self, inc: Incident) -> None:
        w = self.work[inc.id]
        if w.persisted < len(inc.timeline):
            new = inc.timeline[w.persisted:]
            if inc.state is IncidentState.RESOLVED:
                # Finished: the record first, then the checkpoint goes. A crash in between
                # leaves a checkpoint that ``recover`` sees is finished.
                self.store.save_incident(inc, new)
                self.store.save_checkpoint(inc.id, None, inc.updated_at)
            else:
                # The checkpoint first: a crash in between leaves it ahead of the record,
                # and ``recover`` rolls the record forward from it.
                self.store.save_checkpoint(inc.id, _Checkpoint.model_construct(
                    incident=inc, diagnosis=w.diagnosis, runs=w.runs, tried=w.tried,
                    diagnosed_at=w.diagnosed_at).model_dump_json(), inc.updated_at)
                self.store.save_incident(inc, new)
            w.persisted = len(inc.timeline)

    # ---- restart -------------------------------------------------------------------------
    def recover(self, now: float) -> Recovery:
        """Take up after a restart, before anything else runs: settle the journal's intents
        without a result, bring back the rate-limit and outcome history, and restore the
        incidents in flight from their checkpoints. On an empty store it finds nothing."""
        reconciled = self.journal.reconcile(now)
        states = self.store.incident_states()
        numbers = [int(m.group(1)) for i in states if (m := _INCIDENT_NUMBER.fullmatch(i))]
        self._ids = itertools.count(max(numbers, default=0) + 1)
        self._restore_history(now)
        warm = self._restore_detector()
        restored: list[str] = []
        for data in self.store.checkpoints():
            cp = _Checkpoint.model_validate_json(data)
            inc = cp.incident
            if states.get(inc.id) == IncidentState.RESOLVED:  # finished after it was written
                self.store.save_checkpoint(inc.id, None, now)
                continue
            stored = len(self.store.timeline(inc.id))
            if stored < len(inc.timeline):  # the checkpoint ran ahead of the record
                self.store.save_incident(inc, inc.timeline[stored:])
            # What fires now is for the (cold) detectors to say again; when its series do,
            # they refresh this incident rather than open another.
            inc.live, inc.flapping = set(), False
            self.incidents[inc.id] = inc
            self.work[inc.id] = _Work(cp.diagnosis, cp.runs, cp.tried, len(inc.timeline),
                                      cp.diagnosed_at)
            self.correlator.adopt(inc)
            restored.append(inc.id)
        if restored:  # symptoms need time to fire again, and a cold detector to warm up
            det = self.config.detection
            self._blind_until = now + (0.0 if warm else det.warmup_s) + max(
                (r.for_s for r in det.rules), default=0.0) + self.config.correlation.resolve_after_s
        unknown = {r.run.key: r for r in reconciled if r.escalate}
        escalated: list[str] = []
        for iid in restored:
            inc, w = self.incidents[iid], self.work[iid]
            inc.note(now, "restart", "taken up again after a restart; verification and "
                     f"quiet resolution wait until {self._blind_until:.0f} (detector warm-up)")
            for run in w.runs:
                self._restore_run(inc, w, run, now)
            for r in unknown.values():
                if r.run.incident_id == iid and inc.active:
                    self._escalate(inc, w, now, f"{r.run.action} {r.run.target}: "
                                   f"{r.result.message}")
            if inc.state is IncidentState.ESCALATED and any(
                    r.run.incident_id == iid for r in unknown.values()):
                escalated.append(iid)
            self._persist(inc)
        self.last_recovery = Recovery(tuple(reconciled), tuple(restored), tuple(escalated),
                                      warm)
        return self.last_recovery

    def _restore_detector(self) -> bool:
        """The detectors' state as last kept; False (they start cold) when there is none."""
        blob = self.store.load_state("detector")
        if blob is None:
            return False
        try:
            # The engine's own database: trusted like the journal it acts on.
            detector = pickle.loads(blob)
        except Exception:  # e.g. written by another version of healops
            log.warning("the detectors' kept state could not be read; they start cold")
            return False
        det = self.config.detection
        if not isinstance(detector, SymptomDetector) or (
                detector.rules, detector.warmup_s, detector.halflife_s) != (
                list(det.rules), det.warmup_s, det.baseline_halflife_s):
            return False  # other rules now: their state does not carry over
        self.detector = detector
        return True

    def _restore_history(self, now: float) -> None:
        """Rate limits and the circuit breaker count journalled actions, and earned autonomy
        counts verified outcomes: a restart must not reset them."""
        pol = self.config.policy
        horizon = max(pol.per_target.window_s, pol.global_limit.window_s,
                      pol.circuit_breaker.window_s)
        for r in self.store.recent_runs(now - horizon):
            if not r.dry_run:
                self._target_actions.setdefault((r.target, r.action), []).append(r.intent_at)
                if r.intent_at >= now - pol.global_limit.window_s:
                    self._all_actions.append(r.intent_at)
        for o in self.store.outcomes():
            ok = o.status is OutcomeStatus.SUCCESS
            self.stats.record(o.signature, o.action, ok)
            if ok:
                self._history.setdefault(o.signature, []).append(
                    f"{o.incident_id}: {o.action} fixed it")
            elif o.ts >= now - pol.circuit_breaker.window_s:
                self._sig_failures.setdefault(o.signature, []).append(o.ts)

    def _restore_run(self, inc: Incident, w: _Work, run: PlanRun, now: float) -> None:
        if not run.plan.steps or run.step >= len(run.plan.steps):
            return
        step = run.plan.steps[run.step]
        if run.state is RunState.VERIFYING and run.check is not None:
            # The action ran; judge it again from scratch once the detectors can see.
            self._busy[step.target] = inc.id
            run.check = replace(run.check, started=max(now, self._blind_until))
            self._side_effects.append((step.service, now,
                                       now + 3 * step.verify_window_s + 120))
        elif run.state is RunState.PENDING:
            # Decided, perhaps run, but not yet recorded as run: the journal knows.
            prior = self.store.get_run(self._key(inc, run, step))
            if prior is not None and prior.result is not None:
                self._act(inc, w, run, step, now, prior=prior.result)

    @property
    def busy_targets(self) -> dict[str, str]:
        return dict(self._busy)
