"""Silences through the API: create, list, the mute on the running engine, expire, bad
input named by field, roles, and the audit log."""

from __future__ import annotations

import pytest
from tests.api._app import Served, serve_lab

from healops.api.tokens import Role

URL = "/api/v1/silences"


@pytest.fixture(scope="module")
def served() -> Served:
    return serve_lab(seed=2)


def _post(served: Served, body: dict[str, object], role: Role = Role.OPERATOR
          ) -> tuple[int, dict[str, object]]:
    r = served.client().post(URL, json=body, headers=served.auth(role))
    return r.status_code, r.json()


def _cache_incidents(served: Served, since: float) -> list[str]:
    return [i.id for i in served.lab.engine.incidents.values()
            if "cache" in i.services and i.opened_at >= since]


def test_a_silence_mutes_the_engine_until_it_is_expired(served: Served) -> None:
    now = served.lab.clock.now()
    status, made = _post(served, {"matchers": ['service="cache"', 'kind="disk_filling"'],
                                  "duration_s": 7200, "comment": "log migration CHG-42"})
    assert status == 201, made
    assert made["state"] == "active" and made["created_by"] == "operator-user"
    assert made["starts_at"] == now and made["ends_at"] == now + 7200
    assert made["matchers"] == ['service="cache"', 'kind="disk_filling"']

    listed = served.client().get(URL, headers=served.auth(Role.VIEWER)).json()
    assert made in listed
    active = served.client().get(URL, params={"state": "active"},
                                 headers=served.auth(Role.VIEWER)).json()
    assert [s["id"] for s in active] == [made["id"]]

    # The cache's disk fills, the symptom fires, and no incident opens while it is silenced
    # (the cache is the one service outside the slow database's incident).
    served.lab.feed.inject("disk_filling", now, service="cache")
    for _ in range(60):
        served.lab.runtime.tick()
    assert _cache_incidents(served, now) == []

    r = served.client().request("DELETE", f"{URL}/{made['id']}",
                                headers=served.auth(Role.OPERATOR))
    assert r.status_code == 200 and r.json()["state"] == "expired"
    expired_at = served.lab.clock.now()
    assert r.json()["ends_at"] == expired_at
    assert served.lab.runtime.run_until(lambda: bool(_cache_incidents(served, now)),
                                        max_ticks=2)
    inc = served.lab.engine.incidents[_cache_incidents(served, now)[0]]
    assert inc.opened_at >= expired_at
    (disk,) = (a for a in inc.anomalies.values() if a.kind == "disk_filling")
    assert disk.started_at < expired_at  # it fired all along, muted

    # Expiring it again changes nothing; the audit log has one entry for each change.
    again = served.client().request("DELETE", f"{URL}/{made['id']}",
                                    headers=served.auth(Role.ADMIN))
    assert again.status_code == 200 and again.json() == r.json()
    audit = served.client().get("/api/v1/audit", params={"kind": "silence"},
                                headers=served.auth(Role.OPERATOR)).json()
    mine = [(e["actor"], e["data"]["event"]) for e in audit if e["subject"] == made["id"]]
    assert mine == [("operator-user", "created"), ("operator-user", "expired")]
    assert audit[0]["data"]["comment"] == "log migration CHG-42"


def test_a_silence_can_start_later_and_take_iso_times(served: Served) -> None:
    now = served.lab.clock.now()
    status, made = _post(served, {"matchers": ["service=nothing"],
                                  "starts_at": now + 3600,
                                  "ends_at": "2099-01-01T00:00:00Z", "comment": "later"})
    assert status == 201, made
    assert made["state"] == "pending" and made["ends_at"] == 4_070_908_800.0
    assert made["matchers"] == ['service="nothing"']


@pytest.mark.parametrize(("body", "field", "says"), [
    ({"matchers": ['service=~"db("'], "duration_s": 60}, ["matchers", 0],
     "regex does not compile"),
    ({"matchers": ["service db"], "duration_s": 60}, ["matchers", 0], "e.g."),
    ({"matchers": ['service=~".*"'], "duration_s": 60}, ["matchers"], "mute everything"),
    ({"matchers": [], "duration_s": 60}, ["matchers"], "at least 1"),
    ({"matchers": ["service=db"]}, ["ends_at"], "either ends_at or duration_s"),
    ({"matchers": ["service=db"], "duration_s": 60, "ends_at": 4e9}, ["ends_at"],
     "either ends_at or duration_s"),
    ({"matchers": ["service=db"], "ends_at": 1.0}, ["ends_at"], "an end after the start"),
    ({"matchers": ["service=db"], "starts_at": 1.0, "duration_s": 60}, ["duration_s"],
     "in the future"),
    ({"matchers": ["service=db"], "ends_at": "2099-01-01T00:00:00"}, ["ends_at"],
     "no UTC offset; add one"),
    ({"matchers": ["service=db"], "ends_at": "soon"}, ["ends_at"], "ISO-8601"),
    ({"matchers": ["service=db"], "duration_s": -5}, ["duration_s"], "greater than 0"),
    ({"matchers": ["service=db"], "duration_s": 60, "comment": "x", "creator": "me"},
     ["creator"], "Extra inputs"),
])
def test_bad_input_is_422_naming_the_field(served: Served, body: dict[str, object],
                                           field: list[object], says: str) -> None:
    before = len(served.lab.engine.silences.list())
    status, out = _post(served, {"comment": "test", **body})
    assert status == 422, out
    detail = out["detail"]
    assert isinstance(detail, list)
    hits = [d for d in detail if d["loc"][1:] == field]
    assert hits and says in hits[0]["msg"], detail
    assert len(served.lab.engine.silences.list()) == before


def test_an_unknown_silence_is_404(served: Served) -> None:
    r = served.client().request("DELETE", f"{URL}/no-such-silence",
                                headers=served.auth(Role.OPERATOR))
    assert r.status_code == 404 and "GET /api/v1/silences" in r.json()["message"]


def test_viewers_list_and_operators_change(served: Served) -> None:
    body = {"matchers": ["service=nothing"], "duration_s": 60, "comment": "roles"}
    assert _post(served, body, Role.VIEWER)[0] == 403
    assert served.client().get(URL).status_code == 401
    assert served.client().get(URL, headers=served.auth(Role.VIEWER)).status_code == 200
    for role in (Role.OPERATOR, Role.APPROVER, Role.ADMIN):
        status, made = _post(served, body, role)
        assert status == 201 and made["created_by"] == f"{role}-user"
        assert served.client().request("DELETE", f"{URL}/{made['id']}",
                                       headers=served.auth(Role.VIEWER)).status_code == 403
