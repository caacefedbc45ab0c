"""Slack-compatible incoming-webhook messages (Slack, Mattermost, Rocket.Chat).

Text from alerts is escaped (``&``, ``<``, ``>``) so that ``<!channel>`` or a crafted
link in a label is shown, not obeyed; nothing is rendered as a template.

>>> n = Notification("k", "trigger", "api down <!channel>", "I1", "api", 0.0)
>>> slack_message(n)["text"]
'[TRIGGER] api down &lt;!channel&gt;'
"""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import SecretStr

from healops.itsm.notify._http import json_bytes, post_json
from healops.itsm.notify.base import Delivery, Notification

__all__ = ["SlackNotifier", "escape", "slack_message"]


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_message(n: Notification) -> dict[str, Any]:
    head = f"[{n.action.upper()}] {escape(n.title)}"
    fields = [{"type": "mrkdwn", "text": f"*{k}*\n{escape(v)}"} for k, v in
              (("Incident", n.incident_id), ("Service", n.service),
               ("Priority", n.priority or "-"), ("Severity", n.severity))]
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": head}},
        {"type": "section", "fields": fields},
    ]
    if n.lines:
        story = "\n".join(f"• {escape(line)}" for line in n.lines)[:2900]
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": story}})
    if n.link:
        blocks.append({"type": "context",
                       "elements": [{"type": "mrkdwn", "text": escape(n.link)}]})
    return {"text": head, "blocks": blocks}


class SlackNotifier:
    def __init__(self, url: SecretStr, *, client: httpx.Client, name: str = "slack") -> None:
        self._url, self.client, self.name = url, client, name

    def __repr__(self) -> str:
        return f"SlackNotifier(name={self.name!r}, url=**********)"

    def notify(self, notification: Notification) -> Delivery:
        return post_json(self.client, self._url.get_secret_value(),
                         json_bytes(slack_message(notification)), channel=self.name)
