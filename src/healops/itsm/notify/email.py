"""Email over SMTP (optionally STARTTLS and login), one plain-text message per page."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate

from pydantic import SecretStr

from healops.itsm.notify.base import Delivery, Notification

__all__ = ["SmtpNotifier", "email_message"]

log = logging.getLogger("healops.notify")


def email_message(n: Notification, *, sender: str, to: Sequence[str]) -> EmailMessage:
    msg = EmailMessage()
    # Header injection: a newline in a title would start a new header; flatten it.
    subject = f"[healops {n.priority or n.severity}] {n.title}".replace("\r", " ")
    msg["Subject"] = subject.replace("\n", " ")[:250]
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Date"] = formatdate(n.ts, usegmt=True)
    msg["X-Healops-Dedup-Key"] = n.dedup_key.replace("\n", " ").replace("\r", " ")
    msg.set_content(n.text() + "\n")
    return msg


class SmtpNotifier:
    def __init__(self, *, host: str, port: int, sender: str, to: Sequence[str] = (),
                 starttls: bool = False, username: str = "",
                 password: SecretStr = SecretStr(""),  # noqa: B008 (immutable)
                 timeout_s: float = 10.0, name: str = "email") -> None:
        self.host, self.port, self.sender, self.to = host, port, sender, list(to)
        self.starttls, self.username, self._password = starttls, username, password
        self.timeout_s, self.name = timeout_s, name

    def __repr__(self) -> str:
        return f"SmtpNotifier(name={self.name!r}, host={self.host!r}, port={self.port})"

    def notify(self, notification: Notification) -> Delivery:
        to = list(dict.fromkeys([*self.to, *notification.recipients]))
        if not to:
            return Delivery(False, False, "no recipients")
        msg = email_message(notification, sender=self.sender, to=to)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.username:
                    try:
                        smtp.login(self.username, self._password.get_secret_value())
                    except (smtplib.SMTPAuthenticationError,
                            smtplib.SMTPServerDisconnected) as exc:
                        # Some servers hang up after a failed login; retrying won't help.
                        log.warning("email to %s: login refused (%s)", self.name,
                                    type(exc).__name__)
                        return Delivery(False, False, "login refused")
                refused = smtp.send_message(msg)
        except smtplib.SMTPResponseException as exc:
            log.warning("email to %s failed: SMTP %d", self.name, exc.smtp_code)
            return Delivery(False, exc.smtp_code >= 400 and exc.smtp_code < 500,
                            f"SMTP {exc.smtp_code}")
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("email to %s failed: %s", self.name, type(exc).__name__)
            return Delivery(False, True, type(exc).__name__)
        if refused:
            return Delivery(False, False, f"refused: {sorted(refused)}")
        return Delivery(True, detail=f"{len(to)} recipient(s)")
