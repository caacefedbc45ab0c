"""Alertmanager webhook notifications (payload version "4") as ``Alert`` signals.

Both firing and resolved alerts come through; a firing alert whose ``endsAt`` is Go's zero
time (``0001-01-01T00:00:00Z``) has no end. Unknown fields or wrong types are rejected with
a ``PayloadError`` that names the field.

>>> payload = {
...     "version": "4", "groupKey": "{}:{alertname=\\"HighErrors\\"}", "truncatedAlerts": 0,
...     "status": "firing", "receiver": "healops",
...     "groupLabels": {"alertname": "HighErrors"}, "commonLabels": {}, "commonAnnotations": {},
...     "externalURL": "http://am:9093",
...     "alerts": [{"status": "firing", "labels": {"alertname": "HighErrors", "service": "api"},
...                 "annotations": {}, "startsAt": "2026-01-01T00:00:00Z",
...                 "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "", "fingerprint": "ab12"}]}
>>> [(a.name, a.status, a.starts_at, a.ends_at) for a in parse_alertmanager(payload)]
[('HighErrors', 'firing', 1767225600.0, None)]
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from healops.domain.signals import Alert
from healops.observe.payload import PayloadError

__all__ = ["AlertmanagerAlert", "AlertmanagerWebhook", "parse_alertmanager"]

_GO_ZERO_YEAR = 1


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AlertmanagerAlert(_Strict):
    status: Literal["firing", "resolved"]
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: AwareDatetime = Field(alias="startsAt")
    ends_at: AwareDatetime | None = Field(default=None, alias="endsAt")
    generator_url: str = Field(default="", alias="generatorURL")
    fingerprint: str = ""

    def to_signal(self) -> Alert:
        ends = self.ends_at
        ends_at = None if ends is None or ends.year <= _GO_ZERO_YEAR else ends.timestamp()
        return Alert(
            name=self.labels.get("alertname", ""),
            labels=tuple(sorted(self.labels.items())),
            status=self.status,
            starts_at=self.starts_at.timestamp(),
            ends_at=ends_at,
            annotations=tuple(sorted(self.annotations.items())),
            fingerprint=self.fingerprint,
            source="alertmanager",
        )


class AlertmanagerWebhook(_Strict):
    """The body Alertmanager's webhook receiver POSTs, version 4."""

    version: Literal["4"]
    group_key: str = Field(alias="groupKey")
    truncated_alerts: int = Field(default=0, alias="truncatedAlerts", ge=0)
    status: Literal["firing", "resolved"]
    receiver: str
    group_labels: dict[str, str] = Field(default_factory=dict, alias="groupLabels")
    common_labels: dict[str, str] = Field(default_factory=dict, alias="commonLabels")
    common_annotations: dict[str, str] = Field(default_factory=dict, alias="commonAnnotations")
    external_url: str = Field(default="", alias="externalURL")
    alerts: list[AlertmanagerAlert]


def parse_alertmanager(payload: Any) -> list[Alert]:
    """Validate a decoded webhook body and return its alerts, or raise ``PayloadError``."""
    try:
        webhook = AlertmanagerWebhook.model_validate(payload)
    except ValidationError as exc:
        raise PayloadError.from_validation_error(
            exc, what="Alertmanager webhook payload", model=AlertmanagerWebhook
        ) from None
    return [alert.to_signal() for alert in webhook.alerts]
