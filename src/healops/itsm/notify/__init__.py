"""Notifications: one small ``Notifier`` port, its integrations, and the gate that
deduplicates and rate-limits pages.

Alert content is data, never a template: every message is built by plain string and JSON
construction, and Slack control sequences are escaped. Secrets stay ``SecretStr`` and are
never logged.
"""

from healops.itsm.notify.base import Delivery, Notification, Notifier
from healops.itsm.notify.channels import CHANNELS, build_notifiers
from healops.itsm.notify.email import SmtpNotifier
from healops.itsm.notify.fake import FakeNotifier
from healops.itsm.notify.gate import PageGate, Router
from healops.itsm.notify.pagerduty import PagerDutyNotifier, pagerduty_event
from healops.itsm.notify.slack import SlackNotifier, slack_message
from healops.itsm.notify.webhook import WebhookNotifier, sign, verify_signature

__all__ = [
    "CHANNELS",
    "Delivery",
    "FakeNotifier",
    "Notification",
    "Notifier",
    "PageGate",
    "PagerDutyNotifier",
    "Router",
    "SlackNotifier",
    "SmtpNotifier",
    "WebhookNotifier",
    "build_notifiers",
    "pagerduty_event",
    "sign",
    "slack_message",
    "verify_signature",
]
