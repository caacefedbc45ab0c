"""The notifier port: ``notify(notification) -> Delivery``.

A ``Delivery`` says whether it arrived and, when not, whether trying again could help
(a timeout, a 5xx, a 429) or not (a 4xx, a bad address), like Alertmanager's notifiers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

__all__ = ["Delivery", "Notification", "Notifier"]


@dataclass(frozen=True, slots=True)
class Notification:
    """One message about one incident. ``dedup_key`` names the page across channels."""

    dedup_key: str
    action: Literal["trigger", "acknowledge", "resolve"]
    title: str
    incident_id: str
    service: str
    ts: float
    severity: Literal["critical", "error", "warning", "info"] = "error"
    priority: str = ""
    lines: tuple[str, ...] = ()  # the story: reason, evidence, hypotheses, tried, next steps
    recipients: tuple[str, ...] = ()  # people (contacts' addresses for email)
    link: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    level: int = 0  # escalation step: a page climbing to the next tier is not a duplicate

    def as_dict(self) -> dict[str, Any]:
        return {"dedup_key": self.dedup_key, "action": self.action, "title": self.title,
                "incident_id": self.incident_id, "service": self.service, "ts": self.ts,
                "severity": self.severity, "priority": self.priority,
                "lines": list(self.lines), "recipients": list(self.recipients),
                "link": self.link, "details": dict(self.details), "level": self.level}

    def text(self) -> str:
        """Plain text: title, then each line; nothing in it is ever interpreted."""
        body = [self.title, *self.lines]
        if self.link:
            body.append(self.link)
        return "\n".join(body)


@dataclass(frozen=True, slots=True)
class Delivery:
    ok: bool
    recoverable: bool = False
    detail: str = ""


class Notifier(Protocol):
    def notify(self, notification: Notification) -> Delivery: ...
