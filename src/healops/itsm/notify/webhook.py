"""Generic webhooks, signed with HMAC-SHA256 over ``"<timestamp>.<body>"``.

Headers: ``X-Healops-Timestamp: <unix seconds>`` and
``X-Healops-Signature: sha256=<hex>``. The receiver recomputes the HMAC with the shared
secret, compares in constant time, and refuses stale timestamps (replays).

>>> sig = sign(b"k", 1700000000, b'{"a":1}')
>>> verify_signature(b"k", "1700000000", b'{"a":1}', sig, now=1700000100)
True
>>> verify_signature(b"k", "1700000000", b'{"a":2}', sig, now=1700000100)
False
>>> verify_signature(b"k", "1700000000", b'{"a":1}', sig, now=1700009999)
False
"""

from __future__ import annotations

import hashlib
import hmac

import httpx
from pydantic import SecretStr

from healops.itsm.notify._http import json_bytes, post_json
from healops.itsm.notify.base import Delivery, Notification

__all__ = ["SIGNATURE_HEADER", "TIMESTAMP_HEADER", "WebhookNotifier", "sign",
           "verify_signature"]

SIGNATURE_HEADER = "X-Healops-Signature"
TIMESTAMP_HEADER = "X-Healops-Timestamp"


def sign(secret: bytes, ts: int, body: bytes) -> str:
    mac = hmac.new(secret, str(ts).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(secret: bytes, ts: str, body: bytes, signature: str, *, now: float,
                     tolerance_s: float = 300.0) -> bool:
    """True when ``signature`` is ours for this body and timestamp, and is fresh."""
    try:
        t = int(ts)
    except ValueError:
        return False
    if abs(now - t) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, t, body), signature)


class WebhookNotifier:
    def __init__(self, url: str, secret: SecretStr, *, client: httpx.Client,
                 name: str = "webhook") -> None:
        self.url, self._secret, self.client, self.name = url, secret, client, name

    def __repr__(self) -> str:
        return f"WebhookNotifier(name={self.name!r}, url={self.url!r}, secret=**********)"

    def notify(self, notification: Notification) -> Delivery:
        body = json_bytes(notification.as_dict())
        ts = int(notification.ts)
        sig = sign(self._secret.get_secret_value().encode(), ts, body)
        return post_json(self.client, self.url, body, channel=self.name,
                         headers={TIMESTAMP_HEADER: str(ts), SIGNATURE_HEADER: sig})
