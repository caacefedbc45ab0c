"""``RecordingStore``: a decorator around the engine's Store port that keeps the ITSM
records and the audit log, from what the engine already writes.

Every call is forwarded to the wrapped store first (the engine's own records come first;
an ITSM failure must not lose a journal entry), then folded into the records:

- ``save_incident``: the incident record (ITIL state, priority, SLA), problem recurrence,
  approvals and rejections (audited, and applied to the pending change);
- ``record_decision``: a change requested (auto: standard or normal by track record;
  approval: a normal change awaiting its approver); every verdict is audited;
- ``record_intent`` / ``record_result``: the change implementing, then implemented or failed;
- ``record_outcome``: the change closed successful or unsuccessful, the runbook's track
  record, and the known-error note of the signature's problem.

Time comes only from the calls themselves (their ``ts``) and from ``tick(now)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy.engine import Engine

from healops.config.itsm import ItsmConfig
from healops.config.models import HealopsConfig, RunbookConfig
from healops.domain.actions import ActionResult, ActionRun, Outcome, OutcomeStatus
from healops.domain.incidents import Incident, TimelineEntry
from healops.domain.plans import Decision, Verdict
from healops.domain.topology import Topology
from healops.itsm.audit import changed_paths, config_digest
from healops.itsm.changes import ChangeRecord, find_runbook
from healops.itsm.incidents import IncidentRecord, ItilState, tick_record, update_record
from healops.itsm.problems import ProblemRecord, known_error_note, recurs
from healops.store.base import Store
from healops.store.itsm_repo import ItsmRepository

__all__ = ["ItsmEvent", "RecordingStore", "recording"]


@dataclass(frozen=True, slots=True)
class ItsmEvent:
    """Something a listener may want to tell people about (a breach, a problem opened)."""

    kind: str  # "breach:response" | "breach:resolution" | "problem:opened" | "change:..."
    subject: str
    ts: float
    message: str


class RecordingStore:
    """Forwards the Store port and keeps ITSM records (see the module docstring)."""

    def __init__(self, inner: Store, repo: ItsmRepository, config: ItsmConfig, *,
                 topology: Topology, runbooks: Sequence[RunbookConfig] = (),
                 listeners: Sequence[Callable[[ItsmEvent], None]] = ()) -> None:
        self.inner = inner
        self.repo = repo
        self.config = config
        self.topology = topology
        self.runbooks = list(runbooks)
        self.listeners = list(listeners)
        self.incidents: dict[str, IncidentRecord] = {
            r.id: r for r in repo.list_incident_records(open_only=True, limit=10_000)}
        self.changes: dict[str, ChangeRecord] = {
            c.id: c for c in repo.list_changes(limit=10_000) if c.open}
        self._change_counts: dict[str, int] = {}
        self.problems: dict[str, ProblemRecord] = {
            p.signature: p for p in repo.list_problems(limit=10_000) if p.open}
        self._occurrences: dict[str, list[tuple[str, float]]] = {}
        self._signature_of: dict[str, str] = {
            r.id: r.signature for r in self.incidents.values() if r.signature}
        self._fixes: dict[str, dict[tuple[str, str], tuple[int, int]]] = {}
        self._earned: dict[tuple[str, str], int] = {}  # (runbook, action) -> successes
        self._seen_approvals: set[tuple[str, float, str]] = set()
        self._acked: set[str] = set()
        self._reload_history()

    def _reload_history(self) -> None:
        """After a restart: recurrences and track records come back from the records."""
        recs = {r.id: r for r in self.repo.list_incident_records(limit=100_000)}
        fixed: dict[str, float] = {}
        for p in self.repo.list_problems(state="resolved", limit=100_000):
            fixed[p.signature] = max(fixed.get(p.signature, 0.0), p.updated_at)
        for r in sorted(recs.values(), key=lambda r: r.opened_at):
            if r.signature and r.opened_at > fixed.get(r.signature, float("-inf")):
                self._occurrences.setdefault(r.signature, []).append((r.id, r.opened_at))
        for c in self.repo.list_changes(limit=100_000):
            if c.outcome and c.result.startswith("ran") and not c.backout_of:
                ok = c.outcome == "successful"
                if ok:
                    self._earned[(c.runbook, c.action)] = \
                        self._earned.get((c.runbook, c.action), 0) + 1
                sig = recs[c.incident_id].signature if c.incident_id in recs else ""
                if sig:
                    fixes = self._fixes.setdefault(sig, {})
                    s, f = fixes.get((c.action, c.runbook), (0, 0))
                    fixes[(c.action, c.runbook)] = (s + ok, f + (not ok))

    # ---- the Store port, forwarded -----------------------------------------------------
    def save_incident(self, incident: Incident, new_entries: Sequence[TimelineEntry]) -> None:
        self.inner.save_incident(incident, new_entries)
        now = incident.updated_at
        for e in new_entries:
            if e.kind == "approval":
                self._approval(incident.id, e)
        rec, events = update_record(self.incidents.get(incident.id), incident, self.config,
                                    self.topology, now=now)
        if incident.id in self._acked and rec.responded_at is None:
            rec.responded_at = now
        self.incidents[incident.id] = rec
        if incident.signature and self._signature_of.get(incident.id) != incident.signature:
            self._recur(rec, incident.signature, now)
        if not rec.open:
            self._settle_changes(incident.id, now)
        self._events(rec, events, now)
        self.repo.save_incident_record(rec)
        self.tick(now, skip=incident.id)

    def record_intent(self, run: ActionRun) -> bool:
        fresh = self.inner.record_intent(run)
        if not fresh:
            return fresh
        c = next((c for c in self._open_changes(run.incident_id) if c.state == "scheduled"
                  and c.action == run.action and c.target == run.target), None)
        if c is None:  # an undo: a backout within the change that ran last on the target
            last = next((x for x in reversed(self._open_changes(run.incident_id))
                         if x.target == run.target), None)
            c = self._new_change(run.incident_id, run.action, run.target, now=run.intent_at,
                                 kind=last.kind if last else "normal",
                                 reason="backout of " + last.id if last else "unplanned action",
                                 rule="backout", runbook=last.runbook if last else "")
            c.backout_of = last.id if last else ""
        c.start(run.key, now=run.intent_at, dry_run=run.dry_run)
        self._save_change(c, "change:implementing", run.intent_at, actor="automation",
                          data={"key": run.key, "dry_run": run.dry_run})
        return fresh

    def record_result(self, key: str, result: ActionResult, finished_at: float) -> None:
        self.inner.record_result(key, result, finished_at)
        c = next((c for c in self.changes.values() if c.action_key == key), None)
        if c is None:
            return
        c.finish(result.ok, result.message, now=finished_at)
        self._save_change(c, "change:ran" if result.ok else "change:failed", finished_at,
                          actor="automation", data={"ok": result.ok, "message": result.message,
                                                    "changed": result.changed})

    def record_decision(self, incident_id: str, action: str, target: str, decision: Decision,
                        ts: float) -> None:
        self.inner.record_decision(incident_id, action, target, decision, ts)
        self.repo.append_audit(ts=ts, actor="policy", kind="decision", subject=incident_id,
                               data={"action": action, "target": target,
                                     "verdict": str(decision.verdict), "rule": decision.rule,
                                     "reason": decision.reason})
        if decision.verdict not in (Verdict.AUTO, Verdict.APPROVAL):
            return
        pending = next((c for c in self._open_changes(incident_id)
                        if c.state == "awaiting_approval" and c.action == action
                        and c.target == target), None)
        if pending is not None:
            if decision.verdict is Verdict.AUTO:  # the engine re-decided after an approval
                pending.approve("a human (pending name)", now=ts)
                self._save_change(pending, "change:approved", ts, actor="approver",
                                  data={"reason": decision.reason})
            return
        sig = self._signature_of.get(incident_id, "")
        rec = self.incidents.get(incident_id)
        rb = find_runbook(self.runbooks, action, rec.service if rec else target, sig)
        rb_name = rb.name if rb else ""
        earned = self._earned.get((rb_name, action), 0) >= \
            self.config.changes.standard_min_successes
        needs = decision.verdict is Verdict.APPROVAL
        c = self._new_change(incident_id, action, target, now=ts,
                             kind="standard" if (not needs and earned and rb) else "normal",
                             reason=decision.reason, rule=decision.rule, runbook=rb_name,
                             risk=rb.risk if rb else "", needs_approval=needs)
        self._save_change(c, "change:requested", ts, actor="policy",
                          data={"kind": c.kind, "state": c.state, "runbook": rb_name})

    def record_outcome(self, outcome: Outcome) -> None:
        self.inner.record_outcome(outcome)
        ok = outcome.status is OutcomeStatus.SUCCESS
        c = next((c for c in reversed(self._open_changes(outcome.incident_id))
                  if c.state == "review" and c.action == outcome.action), None)
        self.repo.append_audit(ts=outcome.ts, actor="verifier", kind="outcome",
                               subject=outcome.incident_id,
                               data={"action": outcome.action, "signature": outcome.signature,
                                     "status": str(outcome.status),
                                     "change": c.id if c else ""})
        runbook = c.runbook if c else ""
        if c is not None:
            c.close(successful=ok, now=outcome.ts)
            self._save_change(c, "change:closed", outcome.ts, actor="verifier",
                              data={"outcome": c.outcome}, audit=False)
        if ok:
            self._earned[(runbook, outcome.action)] = \
                self._earned.get((runbook, outcome.action), 0) + 1
        fixes = self._fixes.setdefault(outcome.signature, {})
        s, f = fixes.get((outcome.action, runbook), (0, 0))
        fixes[(outcome.action, runbook)] = (s + ok, f + (not ok))
        p = self.problems.get(outcome.signature)
        if p is not None:
            self._known_error(p, outcome.ts)

    def unfinished_intents(self) -> list[ActionRun]:
        return self.inner.unfinished_intents()

    def get_run(self, key: str) -> ActionRun | None:
        return self.inner.get_run(key)

    def __getattr__(self, name: str) -> Any:
        # Reads beyond the port (``engine``, ``timeline``, ``decisions`` of
        # SqlAlchemyStore) go to the wrapped store, so wrapping changes no caller.
        if name.startswith("_") or name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    # ---- time and humans --------------------------------------------------------------
    def tick(self, now: float, *, skip: str = "") -> None:
        """Advance every open record's clocks: SLA breaches, closing resolved records."""
        for rec in list(self.incidents.values()):
            if rec.id == skip:
                continue
            events = tick_record(rec, self.config, now=now)
            if events:
                self._events(rec, events, now)
                self.repo.save_incident_record(rec)
            if rec.closed_at is not None:
                del self.incidents[rec.id]

    def acknowledged(self, incident_id: str, *, by: str, now: float) -> None:
        """A person acknowledged a page for this incident: that is a response."""
        self._acked.add(incident_id)
        rec = self.incidents.get(incident_id)
        self.repo.append_audit(ts=now, actor=by, kind="ack", subject=incident_id, data={})
        if rec is not None:
            events = tick_record(rec, self.config, now=now, responded=True)
            self._events(rec, events, now)
            self.repo.save_incident_record(rec)

    def resolve_problem(self, problem_id: str, *, by: str, now: float, note: str = "") -> bool:
        """A person fixed the underlying cause of a problem; False when it is not open."""
        p = next((x for x in self.problems.values() if x.id == problem_id), None)
        if p is None:
            return False
        p.state, p.updated_at = "resolved", now
        if note:
            p.known_error = (p.known_error + "\n" if p.known_error else "") + \
                f"Resolved by {by}: {note}"
        del self.problems[p.signature]
        self._occurrences[p.signature] = []  # recurrences count afresh after a fix
        self.repo.save_problem(p)
        self.repo.append_audit(ts=now, actor=by, kind="problem:resolved", subject=p.id,
                               data={"note": note})
        return True

    def close_incident(self, incident_id: str, *, by: str, now: float) -> bool:
        """A person closes a resolved incident record before ``close_after_s``."""
        rec = self.incidents.get(incident_id)
        if rec is None or rec.state != "resolved":
            return False
        rec.state, rec.closed_at, rec.updated_at = ItilState.CLOSED, now, now
        self.repo.save_incident_record(rec)
        self.repo.append_audit(ts=now, actor=by, kind="incident:closed", subject=incident_id,
                               data={})
        del self.incidents[incident_id]
        return True

    def config_changed(self, old: BaseModel, new: BaseModel, *, by: str, now: float,
                       source: str = "") -> list[str]:
        """Audit a reload of the configuration (policy, runbooks, anything): which paths
        changed and the digests before and after. Returns the changed paths."""
        paths = changed_paths(old, new)
        self.repo.append_audit(ts=now, actor=by, kind="config", subject=source or "config",
                               data={"changed": paths, "before": config_digest(old),
                                     "after": config_digest(new)})
        if isinstance(new, HealopsConfig):
            self.runbooks = list(new.runbooks)
            self.config = _itsm_of(new)
        elif isinstance(new, ItsmConfig):
            self.config = new
        return paths

    def audit(self, *, ts: float, actor: str, kind: str, subject: str,
              data: dict[str, object]) -> None:
        """Append an entry (a page, a config reload, ...) to the audit log."""
        self.repo.append_audit(ts=ts, actor=actor, kind=kind, subject=subject, data=data)

    # ---- internals --------------------------------------------------------------------
    def _open_changes(self, incident_id: str) -> list[ChangeRecord]:
        return [c for c in self.changes.values() if c.incident_id == incident_id and c.open]

    def _new_change(self, incident_id: str, action: str, target: str, *, now: float,
                    kind: str, reason: str, rule: str, runbook: str = "", risk: str = "",
                    needs_approval: bool = False) -> ChangeRecord:
        n = self._change_counts.get(incident_id)
        if n is None:
            n = len(self.repo.list_changes(incident_id=incident_id, limit=100_000))
        self._change_counts[incident_id] = n + 1
        c = ChangeRecord.request(incident_id, n, action, target, kind=kind, now=now,
                                 reason=reason, rule=rule, runbook=runbook, risk=risk,
                                 needs_approval=needs_approval)
        self.changes[c.id] = c
        return c

    def _save_change(self, c: ChangeRecord, kind: str, ts: float, *, actor: str,
                     data: dict[str, object], audit: bool = True) -> None:
        self.repo.save_change(c)
        if audit:
            self.repo.append_audit(ts=ts, actor=actor, kind=kind, subject=c.incident_id,
                                   data={"change": c.id, "action": c.action,
                                         "target": c.target, **data})
        if not c.open:
            self.changes.pop(c.id, None)

    def _approval(self, incident_id: str, e: TimelineEntry) -> None:
        if (incident_id, e.ts, e.message) in self._seen_approvals:
            return
        self._seen_approvals.add((incident_id, e.ts, e.message))
        approved = e.message.startswith("approved by ")
        who = e.message.removeprefix("approved by ").removeprefix("rejected by ")
        who, _, comment = who.partition(": ")
        self.repo.append_audit(ts=e.ts, actor=who, kind="approval", subject=incident_id,
                               data={"approved": approved, "comment": comment})
        open_ids = {c.id for c in self._open_changes(incident_id)}
        closed = [c for c in self.repo.list_changes(incident_id=incident_id, limit=10_000)
                  if c.id not in open_ids]
        for c in [*self._open_changes(incident_id), *closed]:
            if approved and c.kind == "normal" and c.approved_by.startswith("a human"):
                c.approved_by = who
                self.repo.save_change(c)
            elif not approved and c.state == "awaiting_approval" and c.id in open_ids:
                c.reject(who, now=e.ts, comment=comment)
                self._save_change(c, "change:rejected", e.ts, actor=who, data={}, audit=False)

    def _settle_changes(self, incident_id: str, now: float) -> None:
        """The incident is over: changes that never ran are canceled; a backout that ran
        without its own verification is closed on whether it ran."""
        for c in self._open_changes(incident_id):
            if c.state in ("awaiting_approval", "scheduled"):
                c.cancel("incident resolved before it ran", now=now)
            elif c.state == "review":
                c.close(successful=True, now=now)
            else:
                continue
            self._save_change(c, "change:" + c.state, now, actor="automation",
                              data={"outcome": c.outcome})

    def _recur(self, rec: IncidentRecord, signature: str, now: float) -> None:
        self._signature_of[rec.id] = signature
        occ = self._occurrences.setdefault(signature, [])
        occ.append((rec.id, rec.opened_at))
        window = [(i, t) for i, t in occ if t >= now - self.config.problems.window_s]
        self._occurrences[signature] = window
        p = self.problems.get(signature)
        if p is None and recurs(self.config.problems, [t for _, t in window], now=now):
            p = ProblemRecord(f"PRB-{rec.id}", signature, "open",
                              f"{signature} recurred {len(window)} times", now, now)
            self.problems[signature] = p
            for iid, _ in window:
                self._link(p, iid, now)
            self.repo.append_audit(ts=now, actor="healops", kind="problem:opened",
                                   subject=p.id, data={"signature": signature,
                                                       "incidents": list(p.incident_ids)})
            self._known_error(p, now)
            self._emit(ItsmEvent("problem:opened", p.id, now, p.title))
        elif p is not None:
            self._link(p, rec.id, now)
        if p is not None:
            self.repo.save_problem(p)

    def _link(self, p: ProblemRecord, incident_id: str, now: float) -> None:
        p.link(incident_id, now=now)
        rec = self.incidents.get(incident_id) or self.repo.get_incident_record(incident_id)
        if rec is not None and rec.problem_id != p.id:
            rec.problem_id = p.id
            self.repo.save_incident_record(rec)

    def _known_error(self, p: ProblemRecord, now: float) -> None:
        note, workaround = known_error_note(p.signature, self._fixes.get(p.signature, {}))
        if note and (note, workaround) != (p.known_error, p.workaround):
            p.known_error, p.workaround, p.updated_at = note, workaround, now
            p.state = "known_error"
            self.repo.save_problem(p)

    def _events(self, rec: IncidentRecord, events: list[str], now: float) -> None:
        for ev in events:
            if ev.startswith("breach:"):
                due = rec.response_due_at if ev == "breach:response" else rec.resolution_due_at
                msg = f"{rec.id} ({rec.priority}, {rec.service}): {ev.split(':')[1]} SLA " \
                      f"breached (due at {due:.0f})"
                self.repo.append_audit(ts=now, actor="healops", kind="sla_breach",
                                       subject=rec.id, data={"sla": ev.split(":")[1],
                                                             "priority": rec.priority,
                                                             "due_at": due})
                self._emit(ItsmEvent(ev, rec.id, now, msg))
            elif ev == "state:resolved":
                self._emit(ItsmEvent("incident:resolved", rec.id, now, rec.resolution))
            elif ev.startswith("priority:"):
                self.repo.append_audit(ts=now, actor="healops", kind="priority",
                                       subject=rec.id, data={"priority": rec.priority})

    def _emit(self, event: ItsmEvent) -> None:
        for listener in self.listeners:
            listener(event)


def recording(config: HealopsConfig, *, itsm: ItsmConfig | None = None,
              listeners: Sequence[Callable[[ItsmEvent], None]] = ()
              ) -> Callable[[Store], RecordingStore]:
    """A ``wrap_store`` for ``bootstrap``: records go to the wrapped store's database when
    it has one (``SqlAlchemyStore``), else to an in-memory SQLite database."""

    def wrap(store: Store) -> RecordingStore:
        engine = getattr(store, "engine", None)
        repo = ItsmRepository(engine) if isinstance(engine, Engine) else \
            ItsmRepository.from_url("sqlite://")
        return RecordingStore(store, repo, itsm or _itsm_of(config),
                              topology=config.topology.build(), runbooks=config.runbooks,
                              listeners=listeners)

    return wrap


def _itsm_of(config: HealopsConfig) -> ItsmConfig:
    got = getattr(config, "itsm", None)
    return got if isinstance(got, ItsmConfig) else ItsmConfig()
