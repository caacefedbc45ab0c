"""Posting JSON with httpx and turning the answer into a Delivery, without leaking URLs."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx

from healops.itsm.notify.base import Delivery

__all__ = ["json_bytes", "post_json"]

log = logging.getLogger("healops.notify")


def post_json(client: httpx.Client, url: str, body: bytes, *, channel: str,
              headers: dict[str, str] | None = None, ok: tuple[int, ...] = (200, 201, 202, 204),
              ) -> Delivery:
    hdrs = {"Content-Type": "application/json", **(headers or {})}
    try:
        resp = client.post(url, content=body, headers=hdrs)
    except httpx.HTTPError as exc:
        # The exception text can carry the URL, which for Slack is the credential.
        log.warning("notification to %s failed: %s", channel, type(exc).__name__)
        return Delivery(False, True, type(exc).__name__)
    if resp.status_code in ok:
        return Delivery(True, detail=str(resp.status_code))
    recoverable = resp.status_code == 429 or resp.status_code >= 500
    log.warning("notification to %s refused: HTTP %d", channel, resp.status_code)
    return Delivery(False, recoverable, f"HTTP {resp.status_code}")


def json_bytes(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
