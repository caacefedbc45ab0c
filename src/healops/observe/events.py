"""Generic JSON events: alerts from any system, and change events (deploy, config, scale,
flag, rollback). The shape is documented in ``docs/observe.md`` and enforced with
``extra="forbid"``.

Times are RFC 3339 strings with a zone or seconds since the epoch; a missing time means
"when it was received" (``now``).

>>> body = {"events": [
...     {"type": "change", "kind": "deploy", "service": "api", "version": "1.4.2",
...      "ts": 1767225600},
...     {"type": "alert", "name": "DiskFilling", "labels": {"service": "db"}}]}
>>> change, alert = parse_events(body, now=1767225700.0)
>>> change.kind, change.version, change.ts
('deploy', '1.4.2', 1767225600.0)
>>> alert.name, alert.status, alert.starts_at, alert.label("alertname")
('DiskFilling', 'firing', 1767225700.0, 'DiskFilling')
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from healops.domain.signals import Alert, ChangeEvent
from healops.observe.payload import PayloadError

__all__ = ["AlertEvent", "ChangeEventIn", "EventsPayload", "parse_events", "MAX_EVENTS"]

MAX_EVENTS = 1000

Time = AwareDatetime | Annotated[float, Field(allow_inf_nan=False)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _epoch(t: Time | None, now: float) -> float:
    if t is None:
        return now
    if isinstance(t, float | int):
        return float(t)
    return t.timestamp()


def fingerprint(name: str, labels: dict[str, str]) -> str:
    """A stable identity for an alert: its name and labels, hashed.

    >>> fingerprint("A", {"x": "1"}) == fingerprint("A", {"x": "1"})
    True
    """
    text = name + "\x00" + "\x00".join(f"{k}={v}" for k, v in sorted(labels.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class AlertEvent(_Strict):
    """An alert from any system. ``alertname`` is added to the labels when missing."""

    type: Literal["alert"]
    name: str = Field(min_length=1)
    status: Literal["firing", "resolved"] = "firing"
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: Time | None = None
    ends_at: Time | None = None
    fingerprint: str = ""

    def to_signal(self, now: float) -> Alert:
        labels = {"alertname": self.name, **self.labels}
        ends_at = None if self.ends_at is None else _epoch(self.ends_at, now)
        if self.status == "resolved" and ends_at is None:
            ends_at = now
        return Alert(
            name=self.name,
            labels=tuple(sorted(labels.items())),
            status=self.status,
            starts_at=_epoch(self.starts_at, now),
            ends_at=ends_at,
            annotations=tuple(sorted(self.annotations.items())),
            fingerprint=self.fingerprint or fingerprint(self.name, labels),
            source="webhook",
        )


class ChangeEventIn(_Strict):
    """Something changed on purpose."""

    type: Literal["change"]
    kind: Literal["deploy", "config", "scale", "flag", "rollback"]
    service: str = Field(min_length=1)
    ts: Time | None = None
    version: str = ""
    previous_version: str = ""
    actor: str = ""
    details: dict[str, str] = Field(default_factory=dict)

    def to_signal(self, now: float) -> ChangeEvent:
        return ChangeEvent(
            ts=_epoch(self.ts, now),
            service=self.service,
            kind=self.kind,
            version=self.version,
            previous_version=self.previous_version,
            actor=self.actor,
            details=tuple(sorted(self.details.items())),
        )


Event = Annotated[AlertEvent | ChangeEventIn, Field(discriminator="type")]


class EventsPayload(_Strict):
    """The body of ``POST /api/v1/events``."""

    events: list[Event] = Field(min_length=1, max_length=MAX_EVENTS)


def parse_events(payload: Any, *, now: float) -> list[Alert | ChangeEvent]:
    """Validate a decoded body and return its signals, or raise ``PayloadError``."""
    try:
        parsed = EventsPayload.model_validate(payload)
    except ValidationError as exc:
        raise PayloadError.from_validation_error(
            exc, what="events payload", model=EventsPayload
        ) from None
    return [event.to_signal(now) for event in parsed.events]
