from __future__ import annotations

import copy
from typing import Any

import pytest

from healops.observe.alertmanager import parse_alertmanager
from healops.observe.payload import PayloadError

PAYLOAD: dict[str, Any] = {
    "version": "4",
    "groupKey": '{}:{alertname="HighErrors"}',
    "truncatedAlerts": 0,
    "status": "resolved",
    "receiver": "healops",
    "groupLabels": {"alertname": "HighErrors"},
    "commonLabels": {"alertname": "HighErrors"},
    "commonAnnotations": {},
    "externalURL": "http://alertmanager:9093",
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "HighErrors", "service": "api", "instance": "api-1"},
            "annotations": {"summary": "5xx above 5%"},
            "startsAt": "2026-01-01T00:00:00.5Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus/graph",
            "fingerprint": "c0ffee",
        },
        {
            "status": "resolved",
            "labels": {"alertname": "HighErrors", "service": "db"},
            "annotations": {},
            "startsAt": "2026-01-01T00:00:00+01:00",
            "endsAt": "2026-01-01T00:10:00+01:00",
            "generatorURL": "",
            "fingerprint": "beef",
        },
    ],
}


def test_firing_and_resolved_alerts_become_signals() -> None:
    firing, resolved = parse_alertmanager(PAYLOAD)
    assert firing.name == "HighErrors" and firing.status == "firing"
    assert firing.starts_at == 1767225600.5 and firing.ends_at is None
    assert firing.label("service") == "api" and firing.fingerprint == "c0ffee"
    assert firing.annotations == (("summary", "5xx above 5%"),)
    assert firing.source == "alertmanager"
    assert resolved.status == "resolved"
    assert resolved.starts_at == 1767222000.0 and resolved.ends_at == 1767222600.0


def mutate(path: list[str | int], value: Any, *, delete: bool = False) -> dict[str, Any]:
    payload = copy.deepcopy(PAYLOAD)
    node: Any = payload
    for part in path[:-1]:
        node = node[part]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return payload


@pytest.mark.parametrize(
    ("payload", "where", "text"),
    [
        (mutate(["version"], "3"), "version", "Input should be '4'"),
        (mutate(["alerts", 1, "status"], "pending"), "alerts[1].status", "'firing' or 'resolved'"),
        (mutate(["alerts", 0, "startsAt"], "yesterday"), "alerts[0].startsAt", "datetime"),
        (mutate(["alerts", 0, "startsAt"], "2026-01-01T00:00:00"), "alerts[0].startsAt", "zone"),
        (mutate(["alerts", 0, "labels"], ["a"]), "alerts[0].labels", "dictionary"),
        (mutate(["alerts", 0, "labels", "n"], 5), "alerts[0].labels.n", "string"),
        (mutate(["alerts", 0, "silenced"], True), "alerts[0].silenced", "unknown field"),
        (mutate(["receiver"], None, delete=True), "receiver", "Field required"),
        (mutate(["truncatedAlerts"], -1), "truncatedAlerts", "greater than or equal to 0"),
    ],
)
def test_invalid_payloads_name_the_field(payload: Any, where: str, text: str) -> None:
    with pytest.raises(PayloadError) as info:
        parse_alertmanager(payload)
    problems = {p.loc: p for p in info.value.problems}
    assert where in problems, info.value
    assert text in str(problems[where])


def test_unknown_field_lists_the_allowed_ones() -> None:
    with pytest.raises(PayloadError) as info:
        parse_alertmanager(mutate(["alerts", 0, "silenced"], True))
    assert "allowed fields: annotations, endsAt, fingerprint" in str(info.value)


def test_a_non_object_body_is_rejected() -> None:
    with pytest.raises(PayloadError, match="Alertmanager webhook payload"):
        parse_alertmanager([1, 2])
