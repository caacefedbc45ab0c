"""The one explicit table of notification integrations, and building them from config."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from healops.config.itsm import (
    EmailChannel,
    NotificationConfig,
    PagerDutyChannel,
    SlackChannel,
    WebhookChannel,
)
from healops.itsm.notify.base import Notifier
from healops.itsm.notify.email import SmtpNotifier
from healops.itsm.notify.pagerduty import PagerDutyNotifier
from healops.itsm.notify.slack import SlackNotifier
from healops.itsm.notify.webhook import WebhookNotifier

__all__ = ["CHANNELS", "build_notifiers"]


def _webhook(c: Any, client: httpx.Client) -> Notifier:
    assert isinstance(c, WebhookChannel)
    return WebhookNotifier(c.url, c.secret, client=client, name=c.name)


def _slack(c: Any, client: httpx.Client) -> Notifier:
    assert isinstance(c, SlackChannel)
    return SlackNotifier(c.url, client=client, name=c.name)


def _email(c: Any, client: httpx.Client) -> Notifier:
    assert isinstance(c, EmailChannel)
    return SmtpNotifier(host=c.host, port=c.port, sender=c.sender, to=c.to,
                        starttls=c.starttls, username=c.username, password=c.password,
                        timeout_s=c.timeout_s, name=c.name)


def _pagerduty(c: Any, client: httpx.Client) -> Notifier:
    assert isinstance(c, PagerDutyChannel)
    return PagerDutyNotifier(c.routing_key, client=client, url=c.url, name=c.name)


CHANNELS: dict[str, Callable[[Any, httpx.Client], Notifier]] = {
    "webhook": _webhook,
    "slack": _slack,
    "email": _email,
    "pagerduty": _pagerduty,
}


def build_notifiers(cfg: NotificationConfig, *, client: httpx.Client) -> dict[str, Notifier]:
    """One notifier per configured channel, by channel name."""
    return {c.name: CHANNELS[c.type](c, client) for c in cfg.channels}
