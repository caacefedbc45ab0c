"""A human-approved failover of a slow database whose brief outage a scrape sees.

The failover takes db down for 5 s. When the approval lands just before a scrape, that
scrape sees db down while its callers' latency is still clearing (their rules' ``clear_s``
lag their callee's). The engine must attribute the callers' symptoms to the failover it is
verifying, not diagnose them as new causes with no runbook and page a person.
"""

from __future__ import annotations

import pytest
from tests.lab._guardrails import TICK, Lab

from healops.domain.incidents import IncidentState

RESOLVED = IncidentState.RESOLVED
ESCALATED = IncidentState.ESCALATED
AWAITING = IncidentState.AWAITING_APPROVAL


def _scrape_after(lab: Lab, seconds: float) -> None:
    """One scrape ``seconds`` after the last, off the lab's 10 s grid."""
    lab.clock.advance(seconds)
    batch, changes = lab.estate.tick(lab.now)
    lab.engine.step([*changes, batch], lab.now)


@pytest.mark.parametrize("seed", [17, 3])
def test_an_approved_failover_whose_outage_a_scrape_sees_is_verified_not_escalated(
        seed: int) -> None:
    lab = Lab(seed=seed)
    slow = lab.inject("slow_dependency", "db")
    lab.run_until(lambda: lab.settled(slow), limit_s=900, what="a decision on slow db")
    inc = lab.incident(slow)
    assert inc is not None and lab.state(slow) is AWAITING, lab.story()

    lab.clock.advance(TICK - 3)  # the approval lands 3 s before the next scrape ...
    assert lab.engine.approve(inc.id, by="ana", now=lab.now)
    assert lab.actions_on("db") == ["failover"]
    _scrape_after(lab, 3)  # ... which sees db down for the failover
    assert any(a.kind == "down" and a.service == "db" for a in inc.anomalies.values()), \
        lab.story()

    lab.run_until(lambda: lab.state(slow) in (RESOLVED, ESCALATED), limit_s=900,
                  what="the failover verified or escalated")
    assert lab.resolution(slow) == "resolved by automation: verified", lab.story()
    assert [p.kind for p in lab.pages_for(slow)] == ["approval"], lab.story()
    assert not slow.present(lab.estate, lab.now)
    assert lab.actions_on("db") == ["failover"]
    # one diagnosis while the failover is handled: callers' latency is db's echo
    assert [e.message for e in inc.timeline if e.kind == "diagnosis"] == [
        "1 independent cause(s)"], lab.story()


def test_a_new_fault_on_a_caller_during_the_failover_still_opens_its_own_cause() -> None:
    """Attributing callers' symptoms to the failover must not hide a fault of their own."""
    lab = Lab(seed=17)
    slow = lab.inject("slow_dependency", "db")
    lab.run_until(lambda: lab.settled(slow), limit_s=900, what="a decision on slow db")
    inc = lab.incident(slow)
    assert inc is not None and lab.state(slow) is AWAITING, lab.story()
    lab.clock.advance(TICK - 3)
    assert lab.engine.approve(inc.id, by="ana", now=lab.now)
    _scrape_after(lab, 3)
    cert = lab.inject("cert_expiring", "edge")  # edge calls db through api and auth
    lab.run_until(lambda: "renew_cert" in lab.actions_on("edge", since=cert.injected_at),
                  limit_s=900, what="the certificate renewed")
    assert not cert.present(lab.estate, lab.now)
    assert lab.actions_on("db") == ["failover"]


@pytest.mark.parametrize("seed", [17, 3])
def test_a_bad_deploy_on_a_caller_after_the_failover_is_rolled_back_at_once(seed: int) -> None:
    """Callers' symptoms that begin after the action get a look, not the action's cover: a
    deploy's errors on catalog (which calls db) open their own cause and are rolled back."""
    lab = Lab(seed=seed)
    slow = lab.inject("slow_dependency", "db")
    lab.run_until(lambda: lab.settled(slow), limit_s=900, what="a decision on slow db")
    inc = lab.incident(slow)
    assert inc is not None and lab.state(slow) is AWAITING, lab.story()
    lab.clock.advance(TICK - 3)
    assert lab.engine.approve(inc.id, by="ana", now=lab.now)
    _scrape_after(lab, 3)
    lab.run(20)
    deploy = lab.inject("bad_deploy_errors", "catalog")
    lab.run_until(lambda: "rollback" in lab.actions_on("catalog", since=deploy.injected_at),
                  limit_s=60, what="the bad deploy rolled back")
    lab.run_until(lambda: lab.state(slow) in (RESOLVED, ESCALATED), limit_s=900,
                  what="both verified")
    assert lab.resolution(slow) == "resolved by automation: verified", lab.story()
    assert not deploy.present(lab.estate, lab.now)
    assert [p.kind for p in lab.pages_for(slow)] == ["approval"], lab.story()
