from __future__ import annotations

from typing import Any

import pytest

from healops.domain.signals import Alert, ChangeEvent
from healops.observe.events import MAX_EVENTS, parse_events
from healops.observe.payload import PayloadError

NOW = 1767225600.0


def test_change_events_of_every_kind() -> None:
    kinds = ["deploy", "config", "scale", "flag", "rollback"]
    body = {"events": [{"type": "change", "kind": k, "service": "api"} for k in kinds]}
    events = parse_events(body, now=NOW)
    assert [e.kind for e in events if isinstance(e, ChangeEvent)] == kinds
    assert all(e.ts == NOW for e in events)


def test_change_event_fields_are_carried_over() -> None:
    body = {
        "events": [
            {
                "type": "change",
                "kind": "deploy",
                "service": "api",
                "ts": "2026-01-01T01:00:00+01:00",
                "version": "2",
                "previous_version": "1",
                "actor": "ci",
                "details": {"commit": "abc"},
            }
        ]
    }
    (event,) = parse_events(body, now=0.0)
    assert event == ChangeEvent(
        ts=NOW,
        service="api",
        kind="deploy",
        version="2",
        previous_version="1",
        actor="ci",
        details=(("commit", "abc"),),
    )


def test_alert_events_get_a_stable_fingerprint_and_resolved_gets_an_end() -> None:
    body = {
        "events": [
            {"type": "alert", "name": "Disk", "labels": {"service": "db"}, "starts_at": 10},
            {"type": "alert", "name": "Disk", "labels": {"service": "db"}, "status": "resolved"},
        ]
    }
    firing, resolved = parse_events(body, now=NOW)
    assert isinstance(firing, Alert) and isinstance(resolved, Alert)
    assert firing.starts_at == 10.0 and firing.ends_at is None
    assert resolved.ends_at == NOW and resolved.fingerprint == firing.fingerprint != ""
    assert firing.labels == (("alertname", "Disk"), ("service", "db"))


@pytest.mark.parametrize(
    ("body", "where", "text"),
    [
        ({"events": []}, "events", "at least 1 item"),
        ({}, "events", "Field required"),
        ({"events": [{"type": "change", "kind": "deploy"}]}, "events[0].service", "required"),
        (
            {"events": [{"type": "change", "kind": "reboot", "service": "a"}]},
            "events[0].kind",
            "'deploy'",
        ),
        ({"events": [{"type": "news"}]}, "events[0]", "does not match any of the expected tags"),
        ({"events": [{"name": "x"}]}, "events[0]", "Unable to extract tag"),
        (
            {"events": [{"type": "alert", "name": "x", "sev": 1}]},
            "events[0].sev",
            "allowed fields: annotations, ends_at",
        ),
        ({"events": [{"type": "alert", "name": ""}]}, "events[0].name", "at least 1 character"),
        (
            {"events": [{"type": "alert", "name": "x", "starts_at": "2026-01-01T00:00"}]},
            "events[0].starts_at",
            "timezone",
        ),
        (
            {"events": [{"type": "alert", "name": "x", "starts_at": float("inf")}]},
            "events[0].starts_at",
            "finite",
        ),
        ({"events": "x"}, "events", "valid list"),
    ],
)
def test_invalid_events_name_the_field_and_the_fix(body: Any, where: str, text: str) -> None:
    with pytest.raises(PayloadError) as info:
        parse_events(body, now=NOW)
    problems = {p.loc: str(p) for p in info.value.problems}
    assert where in problems, info.value
    assert text in problems[where]


def test_too_many_events_are_refused() -> None:
    body = {"events": [{"type": "alert", "name": "x"}] * (MAX_EVENTS + 1)}
    with pytest.raises(PayloadError, match="at most 1000 items"):
        parse_events(body, now=NOW)
