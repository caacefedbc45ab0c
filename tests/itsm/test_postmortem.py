from __future__ import annotations

from healops.domain.incidents import TimelineEntry
from healops.itsm.audit import GENESIS, seal
from healops.itsm.changes import ChangeRecord
from healops.itsm.incidents import IncidentRecord, ItilState
from healops.itsm.postmortem import PostmortemInput, render_postmortem


def test_postmortem_has_every_section_from_the_records() -> None:
    tl = [TimelineEntry(0.0, "opened", "incident opened on api"),
          TimelineEntry(30.0, "diagnosis", "bad deploy of api v2",
                        {"hypotheses": ["bad_deploy:api:0.91", "bad_replica:api-1:0.20"]}),
          TimelineEntry(31.0, "decision", "rollback api: auto (low risk)"),
          TimelineEntry(200.0, "decision", "restart api-1: escalate | high risk"),
          TimelineEntry(200.0, "state", "escalated: restart api-1 is high risk",
                        {"to": "escalated"}),
          TimelineEntry(900.0, "state", "symptoms gone after escalation", {"to": "resolved"})]
    rec = IncidentRecord("I1", "api: errors", "api", ["api", "web"], ItilState.RESOLVED,
                         "resolved", "P1", 1, 1, "core", 0.0, 900.0, 900.0, 600.0,
                         signature="bad_deploy:api", symptoms=["errors"], responded_at=30.0,
                         resolved_at=900.0, resolution_breached_at=600.0,
                         resolution="symptoms gone after escalation")
    ch = ChangeRecord.request("I1", 0, "rollback", "api", kind="standard", now=31.0,
                              reason="low", rule="gate", runbook="rollback-bad-deploy")
    ch.start("k", now=31.0, dry_run=False)
    ch.finish(True, "", now=31.0)
    ch.close(successful=False, now=100.0)
    page = seal(GENESIS, 1, ts=200.0, actor="healops", kind="page:paged", subject="I1",
                data={"tier": 1, "people": ["ana"]})
    ack = seal(page.hash, 2, ts=260.0, actor="ana", kind="page:ack", subject="I1", data={})
    ack2 = seal(ack.hash, 3, ts=260.0, actor="ana", kind="ack", subject="I1", data={})
    md = render_postmortem(PostmortemInput(
        "I1", tl, rec, [ch], [("rollback", "api", "auto", "low"),
                              ("restart", "api-1", "escalate", "high risk")],
        audit=[page, ack, ack2]))
    assert "- first response: 0m 30s after opening" in md
    assert "- 1970-01-01 00:03:20 UTC: paged tier 1: ana" in md
    assert md.count("acknowledged by ana") == 1
    for section in ("## Summary", "## Impact", "## Root cause", "## Actions and outcomes",
                    "## What automation did and did not do", "## Follow-ups", "## Timeline"):
        assert section in md
    assert "Duration: 15m 00s" in md and "Services affected: api, web" in md
    assert "resolution SLA breached" in md and "1. `bad_deploy:api:0.91`" in md
    assert "| CHG-I1-0 | standard | rollback api |" in md and "unsuccessful" in md
    assert "- restart api-1: escalate (high risk)" in md
    assert "Review runbook rollback-bad-deploy" in md
    assert "Error budget burned: not measured" in md
    assert "restart api-1: escalate \\| high risk" in md  # table cells are escaped
