"""The JSON API against a real engine over the simulated estate, read as a timeline."""

from __future__ import annotations

import pytest
from tests.api._app import Served, serve_lab

from healops.api.tokens import Role
from healops.domain.incidents import IncidentState


@pytest.fixture
def served() -> Served:
    return serve_lab()


def test_the_queue_lists_the_incident_awaiting_approval_and_filters_it(served: Served) -> None:
    c, h = served.client(), served.auth(Role.VIEWER)
    rows = c.get("/api/v1/incidents", headers=h).json()
    assert [r["id"] for r in rows] == [served.pending]
    assert rows[0]["state"] == "awaiting_approval" and rows[0]["awaiting_approval"] is True
    assert rows[0]["service"] == "db"
    assert c.get("/api/v1/incidents?state=awaiting_approval", headers=h).json() == rows
    assert c.get("/api/v1/incidents?state=resolved", headers=h).json() == []
    assert c.get("/api/v1/incidents?service=db", headers=h).json() == rows
    assert c.get("/api/v1/incidents?service=cache", headers=h).json() == []
    # No ITSM priority yet: a priority filter matches nothing rather than everything.
    assert c.get("/api/v1/incidents?priority=P1", headers=h).json() == []


def test_detail_carries_hypotheses_the_pending_step_and_the_timeline(served: Served) -> None:
    c, h = served.client(), served.auth(Role.VIEWER)
    d = c.get(f"/api/v1/incidents/{served.pending}", headers=h).json()
    assert d["hypotheses"][0]["fault"] == "slow_dependency"
    assert d["pending"] == [{"runbook": d["pending"][0]["runbook"], "action": "failover",
                             "target": "db", "risk": "medium",
                             "confidence": d["pending"][0]["confidence"]}]
    assert [e["kind"] for e in d["timeline"]][0] == "opened"
    assert any(x["verdict"] == "approval" for x in d["decisions"])
    timeline = c.get(f"/api/v1/incidents/{served.pending}/timeline", headers=h).json()
    assert timeline == d["timeline"]


def test_approving_runs_the_action_and_records_who(served: Served) -> None:
    c = served.client()
    r = c.post(f"/api/v1/incidents/{served.pending}/approve",
               json={"comment": "db is slow, go"}, headers=served.auth(Role.APPROVER))
    assert r.status_code == 200, r.text
    assert r.json()["verdict"] == "approved" and r.json()["by"] == "approver-user"
    assert r.json()["state"] == "verifying"
    inc = served.lab.engine.incidents[served.pending]
    assert any(e.kind == "approval" and "approver-user: db is slow, go" in e.message
               for e in inc.timeline)
    detail = c.get(f"/api/v1/incidents/{served.pending}", headers=served.auth(Role.VIEWER))
    assert [a["action"] for a in detail.json()["actions"]] == ["failover"]
    again = c.post(f"/api/v1/incidents/{served.pending}/approve",
                   headers=served.auth(Role.APPROVER))
    assert again.status_code == 409 and again.json()["error"] == "not_awaiting_approval"
    # The loop carries on and judges the failover; the runbook's track record and the
    # dashboard report what the store recorded, whatever the verdict was.
    served.lab.runtime.run_until(
        lambda: inc.state not in (IncidentState.ACTING, IncidentState.VERIFYING), max_ticks=200)
    from sqlalchemy import text

    with served.lab.store.engine.connect() as conn:
        outcomes = conn.execute(text("SELECT status FROM outcomes WHERE signature = "
                                     "'slow_dependency:db'")).scalars().all()
    books = c.get("/api/v1/runbooks", headers=served.auth(Role.VIEWER)).json()
    failover = [b for b in books if b["fault"] == "slow_dependency"]
    assert [(b["successes"], b["failures"]) for b in failover] == [
        (outcomes.count("success"), outcomes.count("failure"))]
    dash = c.get("/api/v1/dashboard", headers=served.auth(Role.VIEWER)).json()
    assert dash["pages"] == served.lab.pages.pages >= 1
    assert dash["by_state"] == {str(inc.state): 1}


def test_rejecting_needs_a_comment_and_escalates(served: Served) -> None:
    c, h = served.client(), served.auth(Role.APPROVER)
    missing = c.post(f"/api/v1/incidents/{served.pending}/reject", json={}, headers=h)
    assert missing.status_code == 422
    r = c.post(f"/api/v1/incidents/{served.pending}/reject",
               json={"comment": "freeze: month-end"}, headers=h)
    assert r.status_code == 200 and r.json()["state"] == "escalated"
    inc = served.lab.engine.incidents[served.pending]
    assert any("freeze: month-end" in e.message for e in inc.timeline)
    assert served.lab.pages.tickets == 1
    dash = c.get("/api/v1/dashboard", headers=served.auth(Role.VIEWER)).json()
    assert len(dash["activity"]) == 24 and dash["tickets"] == 1
    busy = [b for b in dash["activity"] if b["opened"] or b["escalated"] or b["pages"]]
    assert [(b["opened"], b["escalated"], b["pages"]) for b in busy] == [(1, 1, 2)]


@pytest.mark.parametrize(("method", "path", "kw", "status"), [
    ("POST", "/api/v1/incidents/{id}/approve", {"content": b"{not json",
                                                 "headers": {"Content-Type": "application/json"}},
     422),
    ("POST", "/api/v1/incidents/{id}/reject", {"json": {"comment": 5}}, 422),
    ("POST", "/api/v1/incidents/{id}/reject", {"json": ["a list"]}, 422),
    ("POST", "/api/v1/incidents/{id}/approve", {"json": {"comment": "x", "extra": 1}}, 422),
    ("POST", "/api/v1/incidents/INC-99999/approve", {}, 404),
    ("GET", "/api/v1/incidents/INC-99999", {}, 404),
    ("GET", "/api/v1/incidents/INC-99999/timeline", {}, 404),
    ("GET", "/api/v1/incidents/bad%20id", {}, 422),
    ("GET", "/api/v1/incidents?state=bogus", {}, 422),
    ("GET", "/api/v1/incidents?limit=0", {}, 422),
    ("GET", "/api/v1/incidents?priority=urgent", {}, 422),
    ("POST", "/api/v1/tokens", {"json": {"role": "root", "name": "x"}}, 422),
    ("DELETE", "/api/v1/tokens/000000000000", {}, 404),
    ("POST", "/api/v1/logs", {"json": {"service": "api", "lines": [""]}}, 422),  # was a 500
    ("POST", "/api/v1/events", {"content": b"\xff\xfe",
                                "headers": {"Content-Type": "application/json"}}, 400),
])
def test_client_mistakes_are_4xx_with_a_message(served: Served, method: str, path: str,
                                                 kw: dict[str, object], status: int) -> None:
    headers = {**served.auth(Role.ADMIN), **kw.pop("headers", {})}  # type: ignore[dict-item]
    r = served.client().request(method, path.replace("{id}", served.pending),
                                headers=headers, **kw)
    assert r.status_code == status, r.text
    body = r.json()
    assert body.get("message") or body.get("detail")
    assert served.lab.engine.incidents[served.pending].state is IncidentState.AWAITING_APPROVAL


def test_tokens_are_created_once_listed_without_secrets_and_revoked(served: Served) -> None:
    c, admin = served.client(), served.auth(Role.ADMIN)
    made = c.post("/api/v1/tokens", json={"role": "operator", "name": "ci bot"}, headers=admin)
    assert made.status_code == 201
    token, tid = made.json()["token"], made.json()["id"]
    listed = c.get("/api/v1/tokens", headers=admin).json()
    assert tid in [t["id"] for t in listed] and all("token" not in t for t in listed)
    assert token not in c.get("/api/v1/tokens", headers=admin).text
    assert c.get("/api/v1/incidents", headers={"Authorization": f"Bearer {token}"}
                 ).status_code == 200
    assert c.request("DELETE", f"/api/v1/tokens/{tid}", headers=admin).status_code == 204
    gone = c.get("/api/v1/incidents", headers={"Authorization": f"Bearer {token}"})
    assert gone.status_code == 401 and gone.headers["www-authenticate"] == "Bearer"


def test_a_tampered_or_malformed_token_is_refused(served: Served) -> None:
    good = served.tokens[Role.ADMIN]
    for bad in (good[:-1] + ("A" if good[-1] != "A" else "B"), "hot_x", "", "Bearer",
                good.replace("hot_", "tok_")):
        r = served.client().get("/api/v1/incidents", headers={"Authorization": f"Bearer {bad}"})
        assert r.status_code == 401, bad


def test_the_database_keeps_only_a_hash_of_each_token(served: Served) -> None:
    from sqlalchemy import text

    with served.lab.store.engine.connect() as conn:
        stored = " ".join(str(v) for row in conn.execute(text("SELECT * FROM api_tokens"))
                          for v in row)
    for token in served.tokens.values():
        assert token not in stored and token[len("hot_") + 13:] not in stored


def test_health_readiness_and_metrics(served: Served) -> None:
    c = served.client()
    assert c.get("/healthz").json() == {"status": "ok", "checks": {}}
    assert c.get("/readyz").status_code == 200
    text = c.get("/metrics").text
    assert f"healops_engine_ticks_total {float(served.lab.runtime.ticks)}" in text
    assert 'healops_incidents{state="awaiting_approval"} 1.0' in text
    assert "healops_pages_total 1.0" in text
    assert "healops_ingest_rejected_total" in text or "healops_ingest_signals" in text


def test_readiness_fails_when_the_loop_is_expected_but_not_running() -> None:
    from healops.api.app import create_app
    from healops.api.wiring import build_lab_runtime

    lab = build_lab_runtime()
    app = create_app(lab.runtime, config=lab.engine.config, db=lab.store.engine,
                     expect_loop=True)
    from tests.api._app import Client

    r = Client(app).get("/readyz")
    assert r.status_code == 503 and r.json()["checks"]["loop"] == "not running"
    lab.runtime.start()
    try:
        assert Client(app).get("/readyz").status_code == 200
    finally:
        lab.runtime.stop()


def test_each_app_has_its_own_metrics_registry() -> None:
    a, b = serve_lab(), serve_lab(seed=2)  # two apps in one process: no duplicate metrics
    assert a.client().get("/metrics").status_code == b.client().get("/metrics").status_code


def test_itsm_records_are_exposed_read_only(served: Served) -> None:
    c, viewer = served.client(), served.auth(Role.VIEWER)
    queue = c.get("/api/v1/incidents", headers=viewer).json()
    assert queue[0]["priority"] in {"P1", "P2", "P3", "P4", "P5"}
    assert queue[0]["itil_state"] == "on_hold"  # waiting on an approver
    assert c.get(f"/api/v1/incidents?priority={queue[0]['priority']}", headers=viewer
                 ).json() == queue
    detail = c.get(f"/api/v1/incidents/{served.pending}", headers=viewer).json()
    assert detail["record"]["state"] == "on_hold" and detail["record"]["resolution_due_at"] > 0
    [change] = detail["changes"]
    assert change["kind"] == "normal" and change["state"] == "awaiting_approval"
    assert change["action"] == "failover" and change["target"] == "db"
    c.post(f"/api/v1/incidents/{served.pending}/approve", headers=served.auth(Role.APPROVER))
    after = c.get(f"/api/v1/changes/{change['id']}", headers=viewer).json()
    assert after["approved_by"] == "approver-user" and after["started_at"] is not None
    assert c.get(f"/api/v1/changes?incident_id={served.pending}", headers=viewer
                 ).json() == [after]
    assert c.get("/api/v1/changes?kind=standard", headers=viewer).json() == []
    assert c.get("/api/v1/changes/CHG-nope", headers=viewer).status_code == 404
    assert c.get("/api/v1/problems", headers=viewer).json() == []
    assert c.get("/api/v1/problems/PRB-nope", headers=viewer).status_code == 404
    operator = served.auth(Role.OPERATOR)
    audit = c.get(f"/api/v1/audit?subject={served.pending}", headers=operator).json()
    assert [e["seq"] for e in audit] == sorted(e["seq"] for e in audit)
    assert any(e["kind"] == "approval" or "approv" in e["kind"] for e in audit), audit
    assert c.get("/api/v1/audit/verify", headers=operator).json()["ok"] is True


def test_a_tampered_audit_row_shows_in_the_verify_endpoint(served: Served) -> None:
    from sqlalchemy import text

    c, operator = served.client(), served.auth(Role.OPERATOR)
    assert c.get("/api/v1/audit/verify", headers=operator).json()["ok"] is True
    with served.lab.store.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE seq = 1"))
    report = c.get("/api/v1/audit/verify", headers=operator).json()
    assert report["ok"] is False and any("seq 1" in p for p in report["problems"])


def test_a_recurring_bad_deploy_shows_as_a_problem_and_in_the_track_record() -> None:
    from tests.api._app import Client

    from healops.api.app import create_app
    from healops.api.wiring import build_lab_runtime

    # The same bad deploy on catalog three times, half an hour apart: each is rolled back
    # by automation, and the third opens a problem record.
    lab = build_lab_runtime(faults=[(t, "bad_deploy_errors", "catalog")
                                    for t in (0.0, 1800.0, 3600.0)])
    app = create_app(lab.runtime, config=lab.engine.config, db=lab.store.engine)
    admin = app.state.tokens.create(role=Role.ADMIN, name="admin", now=0.0).token
    c, h = Client(app), {"Authorization": f"Bearer {admin}"}
    assert lab.runtime.run_until(
        lambda: bool(c.get("/api/v1/problems", headers=h).json()), max_ticks=800)
    [problem] = c.get("/api/v1/problems", headers=h).json()
    assert problem["signature"] == "bad_deploy:catalog" and len(problem["incident_ids"]) == 3
    assert c.get(f"/api/v1/problems/{problem['id']}", headers=h).json() == problem
    lab.runtime.run_until(lambda: all(not i.active for i in lab.engine.incidents.values()),
                          max_ticks=200)
    books = {b["name"]: b for b in c.get("/api/v1/runbooks", headers=h).json()}
    assert books["rollback-bad-deploy"]["successes"] == 3
    assert books["rollback-bad-deploy"]["failures"] == 0
    dash = c.get("/api/v1/dashboard", headers=h).json()
    assert dash["resolved"] == dash["auto_resolved"] == 3 and dash["auto_resolution_rate"] == 1
    assert dash["mttr_s"] > 0 and dash["pages"] == 0
    changes = c.get("/api/v1/changes", headers=h).json()
    assert len(changes) == 3 and {ch["action"] for ch in changes} == {"rollback"}
    assert all(ch["kind"] in ("standard", "normal") and ch["approved_by"] for ch in changes)
