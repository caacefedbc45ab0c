"""Noise reduction in the simulated estate, read as a timeline: a silence, a maintenance
window and a down database's callers. The engine sees only telemetry; what it mutes or
inhibits opens no incident, takes no action and pages nobody, and what it lets through is
healed as usual."""

from __future__ import annotations

from typing import Any

from tests.lab._guardrails import Lab

from healops.domain.incidents import Incident, IncidentState

MIDNIGHT = 1_767_225_600.0  # the lab clock's start: Thursday 2026-01-01T00:00:00Z


def opened_since(lab: Lab, t: float) -> list[Incident]:
    return [i for i in lab.engine.incidents.values() if i.opened_at >= t]


def test_a_silenced_fault_opens_no_incident_while_an_unsilenced_one_is_healed() -> None:
    lab = Lab(seed=1)
    t0 = lab.now
    silence = lab.engine.silences.add(['service="payments"'], starts_at=t0,
                                      ends_at=t0 + 3600, now=t0, created_by="alice",
                                      comment="the vendor rotates this certificate")
    payments = lab.inject("cert_expiring", "payments")
    edge = lab.inject("cert_expiring", "edge")
    lab.run_until(lambda: lab.state(edge) is IncidentState.RESOLVED, limit_s=600,
                  what="the edge's certificate renewed")
    assert lab.actions_on("edge") == ["renew_cert"]
    assert lab.incident(payments) is None and lab.actions_on("payments") == []
    assert payments.present(lab.estate, lab.now)  # still broken: muted, not fixed

    # Expired, the silence lets the symptom through at the next scrape.
    lab.engine.silences.expire(silence.id, lab.now)
    expired_at = lab.now
    lab.run_until(lambda: lab.state(payments) is IncidentState.RESOLVED, limit_s=600,
                  what="the payments certificate renewed once the silence expired")
    inc = lab.incident(payments)
    assert inc is not None and inc.opened_at == expired_at + 10
    assert lab.actions_on("payments") == ["renew_cert"] and lab.pages == []


def test_a_weekly_maintenance_window_holds_a_fault_until_it_closes() -> None:
    window = {"name": "payments patching", "services": ["payments"], "days": ["thu"],
              "at": "00:15", "duration_s": 1800}  # Thursdays 00:15 to 00:45 UTC
    lab = Lab(seed=2, correlation={"maintenance": [window]})
    assert lab.now == MIDNIGHT + 900  # the window has just opened
    payments = lab.inject("cert_expiring", "payments")
    edge = lab.inject("cert_expiring", "edge")
    lab.run(1790)
    assert lab.now == MIDNIGHT + 2690  # the last scrape inside the window
    assert lab.incident(payments) is None and lab.actions_on("payments") == []
    assert lab.state(edge) is IncidentState.RESOLVED  # not in the window: healed
    lab.run_until(lambda: lab.state(payments) is IncidentState.RESOLVED, limit_s=600,
                  what="the payments certificate renewed after the window")
    inc = lab.incident(payments)
    assert inc is not None and inc.opened_at == MIDNIGHT + 2700  # the window's end
    assert lab.actions_on("payments") == ["renew_cert"] and lab.pages == []


def _db_down(correlation: dict[str, Any] | None = None) -> tuple[Lab, list[Incident]]:
    lab = Lab(seed=3, correlation=correlation)
    t0 = lab.now
    lab.estate.services["db"].instances[0].up = False
    lab.run(300)
    return lab, opened_since(lab, t0)


def test_a_down_databases_callers_open_no_incidents_of_their_own() -> None:
    # Grouping by topology takes the callers' errors into the database's incident.
    lab, incidents = _db_down()
    assert [i.service for i in incidents] == ["db"]
    assert incidents[0].services >= {"auth", "orders", "payments", "catalog", "worker",
                                     "api", "edge"}  # evidence for the diagnosis
    assert len(lab.pages) == 1
    # With grouping limited to one service, inhibition alone keeps them out...
    lab, incidents = _db_down({"max_hops": 0})
    assert [(i.service, sorted(i.services)) for i in incidents] == [("db", ["db"])]
    assert len(lab.pages) == 1
    # ...which is what it prevents: one incident and one page per caller.
    lab, incidents = _db_down({"max_hops": 0, "inhibit": []})
    assert sorted(i.service for i in incidents) == [
        "api", "auth", "catalog", "db", "edge", "orders", "payments", "worker"]
    assert len(lab.pages) == 8


def test_a_database_down_in_maintenance_pages_nobody_for_it_or_its_callers() -> None:
    window = {"services": ["db"], "start": MIDNIGHT, "end": MIDNIGHT + 7200}
    lab, incidents = _db_down({"maintenance": [window]})
    # The muted source still inhibits its callers' symptoms, as in Alertmanager.
    assert incidents == [] and lab.pages == [] and lab.actions == []
