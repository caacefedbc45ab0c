"""Read models for the API and the console: the store's records joined with what the live
engine knows (diagnosis, pending steps). Reporting only; no decision is taken here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Concatenate, ParamSpec, TypeVar

from healops.api.schemas import (
    ActionOut,
    ActivityBucket,
    AuditEntryOut,
    AuditVerifyOut,
    ChangeOut,
    DashboardOut,
    DecisionOut,
    HypothesisOut,
    IncidentDetail,
    IncidentRecordOut,
    IncidentSummary,
    PendingStepOut,
    ProblemOut,
    RunbookOut,
    RunbookStepOut,
    ServiceOut,
    TimelineEntryOut,
)
from healops.config.models import HealopsConfig
from healops.domain.incidents import IncidentState
from healops.itsm.incidents import IncidentRecord as ItsmIncidentRecord
from healops.loop import Engine, RunState
from healops.runtime import Runtime, SliPoint
from healops.store.itsm_repo import ItsmRepository
from healops.store.queries import IncidentQueries, IncidentRecord

__all__ = ["Views"]

T = TypeVar("T")
P = ParamSpec("P")


def _locked(method: Callable[Concatenate[Views, P], T]) -> Callable[Concatenate[Views, P], T]:
    """Reads take the runtime's lock: they never see half a tick, and an in-memory SQLite
    database (one shared connection) is never used by two threads at once."""

    def wrapper(self: Views, /, *args: P.args, **kwargs: P.kwargs) -> T:
        with self.runtime.lock:
            return method(self, *args, **kwargs)

    wrapper.__name__, wrapper.__doc__ = method.__name__, method.__doc__
    return wrapper



@dataclass
class Views:
    runtime: Runtime
    queries: IncidentQueries
    config: HealopsConfig
    pages: Callable[[], tuple[int, int]] = lambda: (0, 0)  # (pages, tickets)
    itsm: ItsmRepository | None = None
    page_times: Callable[[], Sequence[float]] = lambda: ()

    @property
    def engine(self) -> Engine:
        engine: Engine = self.runtime.engine
        return engine

    @_locked
    def records(self) -> dict[str, ItsmIncidentRecord]:
        if self.itsm is None:
            return {}
        return {r.id: r for r in self.itsm.list_incident_records(limit=1_000_000)}

    def _summary(self, r: IncidentRecord,
                 record: ItsmIncidentRecord | None = None) -> IncidentSummary:
        return IncidentSummary(
            id=r.id, service=r.service, services=list(r.services), state=r.state,
            signature=r.signature, priority=record.priority if record else None,
            itil_state=str(record.state) if record else None,
            sla_breached=record.breached if record else False, opened_at=r.opened_at,
            updated_at=r.updated_at, resolved_at=r.resolved_at, escalated_at=r.escalated_at,
            awaiting_approval=r.state == IncidentState.AWAITING_APPROVAL.value)

    @_locked
    def incidents(self, *, state: str | None = None, service: str | None = None,
                  priority: str | None = None, limit: int = 200,
                  offset: int = 0) -> list[IncidentSummary]:
        """The queue: active incidents first, then by priority (P1 first), newest first."""
        recs = self.records()
        rows = [self._summary(r, recs.get(r.id)) for r in self.queries.incidents(
            state=state, service=service, limit=100_000)]
        if priority is not None:
            rows = [r for r in rows if r.priority == priority]
        done = {IncidentState.RESOLVED.value, IncidentState.SUPPRESSED.value}
        rows.sort(key=lambda r: (r.state in done, r.priority or "P9", -r.opened_at, r.id))
        return rows[offset:offset + limit]

    @_locked
    def incident(self, incident_id: str) -> IncidentDetail | None:
        rec = self.queries.incident(incident_id)
        if rec is None:
            return None
        hyps: list[HypothesisOut] = []
        pending: list[PendingStepOut] = []
        tried: list[str] = []
        similar: list[str] = []
        reason = ""
        with self.runtime.lock:
            work = self.engine.work.get(incident_id)
            if work is not None:
                d = work.diagnosis
                if d is not None:
                    reason = d.reason
                    similar = list(d.similar)
                    hyps = [HypothesisOut(component=h.component, fault=h.fault,
                                          confidence=round(h.confidence, 4),
                                          target=h.target, runbook=h.runbook,
                                          evidence=[e.summary for e in h.evidence[:8]])
                            for h in d.hypotheses[:8]]
                for run in work.runs:
                    if run.state is RunState.AWAITING_APPROVAL:
                        step = run.plan.steps[run.step]
                        pending.append(PendingStepOut(
                            runbook=run.plan.runbook, action=step.action, target=step.target,
                            risk=step.risk, confidence=round(run.plan.confidence, 4)))
                tried = list(work.tried)
        record = self.itsm.get_incident_record(incident_id) if self.itsm else None
        base = self._summary(rec, record)
        return IncidentDetail(
            **base.model_dump(), hypotheses=hyps,
            record=_record_out(record) if record else None,
            changes=self.changes(incident_id=incident_id), diagnosis=reason, pending=pending,
            tried=tried, similar=similar,
            decisions=[DecisionOut(ts=d.ts, action=d.action, target=d.target,
                                   verdict=d.verdict, rule=d.rule, reason=d.reason)
                       for d in self.queries.decisions(incident_id)],
            actions=[ActionOut(key=a.key, action=a.action, target=a.target,
                               intent_at=a.intent_at, finished_at=a.finished_at, ok=a.ok,
                               message=a.message, dry_run=a.dry_run)
                     for a in self.queries.actions(incident_id)],
            timeline=self.timeline(incident_id) or [])

    @_locked
    def timeline(self, incident_id: str) -> list[TimelineEntryOut] | None:
        if self.queries.incident(incident_id) is None:
            return None
        return [TimelineEntryOut(ts=e.ts, kind=e.kind, message=e.message, data=e.data)
                for e in self.queries.timeline(incident_id)]

    @_locked
    def runbooks(self) -> list[RunbookOut]:
        out = []
        for rb in self.config.runbooks:
            ok, bad = self._runbook_record(rb.fault)
            out.append(RunbookOut(
                name=rb.name, description=rb.description, fault=rb.fault, risk=rb.risk,
                services=list(rb.services),
                steps=[RunbookStepOut(action=s.action, target=s.target,
                                      verify_window_s=s.verify_window_s, on_failure=s.on_failure)
                       for s in rb.steps],
                successes=ok, failures=bad))
        return out

    def _runbook_record(self, fault: str) -> tuple[int, int]:
        ok = bad = 0
        for r in self.queries.track_record():
            # A plan's signature starts with its fault ("<fault>:<component>...").
            if r.signature.split(":", 1)[0] == fault:
                ok += r.successes
                bad += r.failures
        return ok, bad

    @_locked
    def services(self) -> list[ServiceOut]:
        with self.runtime.lock:
            active = [(i.id, i.state, set(i.services)) for i in self.engine.incidents.values()
                      if i.active or i.state is IncidentState.ESCALATED]
        out = []
        for s in self.config.topology.services:
            mine = [(iid, st) for iid, st, svcs in active if s.name in svcs]
            health = "ok"
            if mine:
                states = {st for _, st in mine}
                health = ("acting" if states & {IncidentState.ACTING, IncidentState.VERIFYING}
                          else "awaiting_approval" if IncidentState.AWAITING_APPROVAL in states
                          else "degraded")
            out.append(ServiceOut(name=s.name, tier=s.tier, depends_on=list(s.depends_on),
                                  health=health, incidents=[iid for iid, _ in mine]))
        return out

    @_locked
    def dashboard(self, bucket_s: float = 3600.0) -> DashboardOut:
        by_state = self.queries.state_counts()
        with self.runtime.lock:
            incs = list(self.engine.incidents.values())
            auto_ids = {i.id for i in incs if i.state is IncidentState.RESOLVED
                        and (w := self.engine.work.get(i.id)) is not None and w.runs
                        and all(r.state is RunState.DONE for r in w.runs)}
            auto = len(auto_ids)
            detect = [i.opened_at - min(a.started_at for a in i.anomalies.values())
                      for i in incs if i.anomalies]
        resolved = [r for r in self.queries.incidents(state=IncidentState.RESOLVED.value,
                                                      limit=100_000)
                    if r.resolved_at is not None]
        repair = [r.resolved_at - r.opened_at for r in resolved if r.resolved_at is not None]
        pages, tickets = self.pages()
        total = sum(by_state.values())
        active = sum(n for st, n in by_state.items()
                     if st not in (IncidentState.RESOLVED.value, IncidentState.SUPPRESSED.value))
        return DashboardOut(
            incidents=total, active=active, resolved=len(resolved), auto_resolved=auto,
            auto_resolution_rate=round(auto / len(resolved), 4) if resolved else None,
            mttd_s=round(sum(detect) / len(detect), 1) if detect else None,
            mttr_s=round(sum(repair) / len(repair), 1) if repair else None,
            pages=pages, tickets=tickets, by_state=by_state, availability=self.availability(),
            bucket_s=bucket_s,
            activity=self._activity(bucket_s, auto_ids))

    def _activity(self, bucket_s: float, auto_ids: set[str]) -> list[ActivityBucket]:
        end = self.runtime.clock.now()
        first = (end // bucket_s - 23) * bucket_s
        counts = [[0, 0, 0, 0] for _ in range(24)]

        def add(ts: float | None, column: int) -> None:
            if ts is not None and first <= ts < first + 24 * bucket_s:
                counts[int((ts - first) // bucket_s)][column] += 1

        for r in self.queries.incidents(limit=100_000):
            add(r.opened_at, 0)
            if r.id in auto_ids:
                add(r.resolved_at, 1)
            add(r.escalated_at, 2)
        for ts in self.page_times():
            add(ts, 3)
        return [ActivityBucket(start=first + i * bucket_s, opened=c[0], auto_resolved=c[1],
                               escalated=c[2], pages=c[3]) for i, c in enumerate(counts)]

    @_locked
    def availability(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for s in self.config.topology.services:
            points = self.sli(s.name, "up")
            if points:
                out[s.name] = round(sum(p.value for p in points) / len(points), 5)
        return out

    def sli(self, service: str, metric: str) -> list[SliPoint]:
        with self.runtime.lock:
            return self.runtime.sli.get(service, metric)

    # ---- ITSM records (read-only) ----------------------------------------------------
    @_locked
    def changes(self, *, incident_id: str | None = None, state: str | None = None,
                kind: str | None = None, limit: int = 200, offset: int = 0) -> list[ChangeOut]:
        if self.itsm is None:
            return []
        return [ChangeOut(**asdict(c)) for c in self.itsm.list_changes(
            incident_id=incident_id, state=state, kind=kind, limit=limit, offset=offset)]

    @_locked
    def change(self, change_id: str) -> ChangeOut | None:
        c = self.itsm.get_change(change_id) if self.itsm else None
        return ChangeOut(**asdict(c)) if c else None

    @_locked
    def problems(self, *, state: str | None = None, limit: int = 200,
                 offset: int = 0) -> list[ProblemOut]:
        if self.itsm is None:
            return []
        return [ProblemOut(**asdict(p))
                for p in self.itsm.list_problems(state=state, limit=limit, offset=offset)]

    @_locked
    def problem(self, problem_id: str) -> ProblemOut | None:
        p = self.itsm.get_problem(problem_id) if self.itsm else None
        return ProblemOut(**asdict(p)) if p else None

    @_locked
    def audit(self, *, subject: str | None = None, kind: str | None = None,
              after_seq: int = 0, limit: int = 500) -> list[AuditEntryOut]:
        if self.itsm is None:
            return []
        return [AuditEntryOut(seq=e.seq, ts=e.ts, actor=e.actor, kind=e.kind, subject=e.subject,
                              data=e.data, prev_hash=e.prev_hash, hash=e.hash)
                for e in self.itsm.audit_entries(subject=subject, kind=kind,
                                                 after_seq=after_seq, limit=limit)]

    @_locked
    def verify_audit(self) -> AuditVerifyOut:
        if self.itsm is None:
            return AuditVerifyOut(ok=True, entries=0, head="", problems=[])
        report = self.itsm.verify_audit()
        return AuditVerifyOut(ok=report.ok, entries=report.entries, head=report.head,
                              problems=list(report.problems))


def _record_out(rec: ItsmIncidentRecord) -> IncidentRecordOut:
    data = asdict(rec)
    data["state"] = str(rec.state)
    return IncidentRecordOut(**data, breached=rec.breached)
