"""PagerDuty Events API v2: trigger, acknowledge and resolve, keyed by ``dedup_key``.

>>> from pydantic import SecretStr
>>> n = Notification("I1:page", "trigger", "api down", "I1", "api", 1767225600.0,
...                  severity="critical")
>>> ev = pagerduty_event(n, SecretStr("R" * 32))
>>> ev["event_action"], ev["dedup_key"], ev["payload"]["timestamp"]
('trigger', 'I1:page', '2026-01-01T00:00:00+00:00')
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import SecretStr

from healops.itsm.notify._http import json_bytes, post_json
from healops.itsm.notify.base import Delivery, Notification

__all__ = ["PagerDutyNotifier", "pagerduty_event"]


def pagerduty_event(n: Notification, routing_key: SecretStr) -> dict[str, Any]:
    ev: dict[str, Any] = {"routing_key": routing_key.get_secret_value(),
                          "event_action": n.action, "dedup_key": n.dedup_key}
    if n.action == "trigger":
        ev["payload"] = {
            "summary": n.title[:1024],
            "source": "healops",
            "severity": n.severity,
            "timestamp": datetime.fromtimestamp(n.ts, UTC).isoformat(),
            "component": n.service,
            "group": n.service,
            "class": n.details.get("kind", "incident"),
            "custom_details": {"incident": n.incident_id, "priority": n.priority,
                               "story": list(n.lines), **n.details},
        }
        if n.link:
            ev["links"] = [{"href": n.link, "text": "healops console"}]
    return ev


class PagerDutyNotifier:
    def __init__(self, routing_key: SecretStr, *, client: httpx.Client,
                 url: str = "https://events.pagerduty.com/v2/enqueue",
                 name: str = "pagerduty") -> None:
        self._key, self.client, self.url, self.name = routing_key, client, url, name

    def __repr__(self) -> str:
        return f"PagerDutyNotifier(name={self.name!r}, url={self.url!r}, routing_key=**********)"

    def notify(self, notification: Notification) -> Delivery:
        body = json_bytes(pagerduty_event(notification, self._key))
        return post_json(self.client, self.url, body, channel=self.name, ok=(200, 202))
