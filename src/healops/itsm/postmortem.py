"""Postmortems drafted as Markdown from an incident's timeline and records.

Pure: ``render_postmortem`` takes what the store holds and returns text. What it cannot
know (users affected, error budget burned when no SLO symptom was seen) it says it does
not know, rather than inventing it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from healops.domain.incidents import TimelineEntry
from healops.itsm.audit import AuditEntry
from healops.itsm.changes import ChangeRecord
from healops.itsm.incidents import IncidentRecord
from healops.itsm.problems import ProblemRecord

__all__ = ["PostmortemInput", "render_postmortem"]


@dataclass(frozen=True)
class PostmortemInput:
    incident_id: str
    timeline: Sequence[TimelineEntry]
    record: IncidentRecord | None = None
    changes: Sequence[ChangeRecord] = ()
    decisions: Sequence[tuple[str, str, str, str]] = ()  # action, target, verdict, reason
    problem: ProblemRecord | None = None
    audit: Sequence[AuditEntry] = ()  # this incident's audit entries (pages, acks, approvals)


def _t(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _dur(s: float) -> str:
    s = int(round(s))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}h {m:02d}m {sec:02d}s" if h else f"{m}m {sec:02d}s"


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def render_postmortem(pm: PostmortemInput) -> str:
    tl, rec = list(pm.timeline), pm.record
    opened = tl[0].ts if tl else (rec.opened_at if rec else None)
    resolved = rec.resolved_at if rec else next(
        (e.ts for e in tl if e.kind == "state" and e.data.get("to") == "resolved"), None)
    end = resolved if resolved is not None else (tl[-1].ts if tl else None)
    duration = _dur(end - opened) if opened is not None and end is not None else "unknown"
    diagnoses = [e for e in tl if e.kind == "diagnosis"]
    escalations = [e for e in tl if e.kind == "state" and e.data.get("to") == "escalated"]
    out: list[str] = []
    title = rec.title if rec else pm.incident_id
    out += [f"# Postmortem: {pm.incident_id}: {title}", "",
            "*Drafted by healops from the incident timeline and its records; "
            "review and complete it before sharing.*", ""]
    # ---- summary
    how = rec.resolution if rec and rec.resolution else (
        "still open" if resolved is None else "resolved")
    out += ["## Summary", ""]
    if rec is not None:
        out += [f"- Service: {rec.service} (assignment group {rec.assignment_group})",
                f"- Priority: {rec.priority} (impact {rec.impact}, urgency {rec.urgency})",
                f"- State: {rec.state}"]
    out += [f"- Opened: {_t(opened)}", f"- Resolved: {_t(resolved)}",
            f"- Duration: {duration}", f"- How it ended: {how}",
            f"- Escalated to a human: {'yes' if escalations else 'no'}", ""]
    # ---- impact
    out += ["## Impact", "", f"- Duration: {duration}"]
    if rec is not None:
        out.append(f"- Services affected: {', '.join(rec.services) or rec.service}")
        out.append(f"- Symptoms: {', '.join(rec.symptoms) or 'none recorded'}")
        sla = []
        if rec.response_breached_at is not None:
            sla.append(f"response SLA breached (due {_t(rec.response_due_at)})")
        if rec.resolution_breached_at is not None:
            sla.append(f"resolution SLA breached (due {_t(rec.resolution_due_at)})")
        out.append("- SLA: " + ("; ".join(sla) if sla else "met"))
    budget = [e for e in tl if "budget" in e.data]
    out.append("- Error budget burned: " + (
        ", ".join(str(e.data["budget"]) for e in budget) if budget
        else "not measured (no SLO burn signal was attached to this incident)"))
    out += ["- Users affected: not measured by healops; fill in from product analytics", ""]
    # ---- root cause
    out += ["## Root cause", ""]
    if diagnoses:
        last = diagnoses[-1]
        out.append(f"Diagnosis ({_t(last.ts)}): {last.message}")
        hyps = last.data.get("hypotheses") or []
        if hyps:
            out += ["", "Ranked hypotheses (fault:target:confidence):", ""]
            out += [f"{i}. `{h}`" for i, h in enumerate(hyps, 1)]
        if last.data.get("ambiguous"):
            out += ["", "The diagnosis was ambiguous: confirm the cause by hand."]
    else:
        out.append("No diagnosis was recorded: healops did not identify a cause.")
    if rec and rec.signature:
        out += ["", f"Signature: `{rec.signature}`"]
    out.append("")
    # ---- actions
    out += ["## Actions and outcomes", ""]
    if pm.changes:
        out += ["| change | type | action | approved by | result | outcome |",
                "|---|---|---|---|---|---|"]
        for c in sorted(pm.changes, key=lambda c: c.requested_at):
            out.append(f"| {c.id} | {c.kind} | {_cell(c.action)} {_cell(c.target)} | "
                       f"{_cell(c.approved_by or '-')} | {_cell(c.result or c.state)} | "
                       f"{c.outcome or c.state} |")
    else:
        out.append("No change was made to the estate.")
    out.append("")
    # ---- automation
    # ---- people
    out += ["## Response", ""]
    first_action = min((c.started_at for c in pm.changes if c.started_at is not None),
                       default=None)
    if opened is not None:
        for label, ts in (("first response", rec.responded_at if rec else None),
                          ("first action", first_action), ("resolved", resolved)):
            if ts is not None:
                out.append(f"- {label}: {_dur(ts - opened)} after opening")
    human = [a for a in pm.audit if a.kind.startswith("page:") or a.kind in ("ack", "approval")]
    lines: list[str] = []
    for a in human:
        d = a.data
        if a.kind.startswith("page:") and a.kind != "page:ack":
            who = ", ".join(d.get("people", [])) or "the configured channels"
            tier = f" tier {d['tier']}" if "tier" in d else ""
            lines.append(f"- {_t(a.ts)}: {a.kind.split(':')[1]}{tier}: {who}")
        elif a.kind in ("ack", "page:ack"):
            lines.append(f"- {_t(a.ts)}: acknowledged by {a.actor}")
        elif a.kind == "approval":
            verb = "approved" if d.get("approved") else "rejected"
            lines.append(f"- {_t(a.ts)}: {verb} by {a.actor}"
                         + (f" ({_cell(str(d['comment']))})" if d.get("comment") else ""))
    out += list(dict.fromkeys(lines))  # the pager and the records both log an ack
    if not human:
        out.append("- nobody was paged")
    out.append("")
    auto_ran = sorted((c for c in pm.changes if c.started_at is not None),
                      key=lambda c: (c.started_at or 0.0, c.id))
    held = [d for d in pm.decisions if d[2] != "auto"]
    out += ["## What automation did and did not do", "", "Did:", ""]
    out += [f"- ran {c.action} on {c.target} ({c.kind} change, {c.outcome or c.state})"
            for c in auto_ran] or ["- took no action"]
    out += ["", "Did not:", ""]
    out += [f"- {a} {t}: {v} ({_cell(r)})" for a, t, v, r in held]
    out += [f"- handed over to a human: {e.message}" for e in escalations]
    if not held and not escalations:
        out.append("- nothing was held back")
    out.append("")
    # ---- follow-ups
    follow: list[str] = []
    for e in escalations:
        if "no runbook" in e.message or "investigate" in e.message:
            follow.append("Write a runbook for this failure so the next one is fixed "
                          "automatically.")
    if any("no runbook" in r for *_, r in pm.decisions):
        follow.append("Write a runbook covering the diagnosed fault.")
    for c in pm.changes:
        if c.outcome == "unsuccessful":
            follow.append(f"Review runbook {c.runbook or '-'}: {c.action} on {c.target} did "
                          "not fix it.")
    if any(c.kind == "normal" and c.approved_by and not c.approved_by.startswith("policy")
           for c in pm.changes):
        follow.append("Consider whether the approved action has earned a standard "
                      "(pre-approved) change.")
    if rec is not None and rec.breached:
        follow.append(f"Review the SLA breach of this {rec.priority} incident.")
    if pm.problem is not None:
        follow.append(f"Work problem {pm.problem.id} ({pm.problem.title}): "
                      + (pm.problem.known_error or "find the underlying cause."))
    follow.append("Confirm users affected and the error budget burned.")
    out += ["## Follow-ups", ""] + [f"- [ ] {f}" for f in dict.fromkeys(follow)] + [""]
    # ---- timeline
    out += ["## Timeline", "", "| time | kind | what happened |", "|---|---|---|"]
    out += [f"| {_t(e.ts)} | {e.kind} | {_cell(e.message)} |" for e in tl]
    return "\n".join(out) + "\n"
