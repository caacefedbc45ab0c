"""Deduplication and rate limiting of pages, and the router that fans a page out.

A trigger with a dedup key already sent on a channel within the window is a duplicate; a
channel sends at most ``rate_count`` triggers per window. Acknowledgements and resolutions
are deduplicated but never rate-limited: a page must be able to close.

>>> from healops.itsm.notify.base import Notification
>>> gate = PageGate(dedup_window_s=60, rate_count=2, rate_window_s=600)
>>> n = lambda k: Notification(k, "trigger", "t", "I", "api", 0.0)
>>> gate.admit(n("a"), "slack", now=0), gate.admit(n("a"), "slack", now=10)
('', 'duplicate')
>>> gate.admit(n("b"), "slack", now=20), gate.admit(n("c"), "slack", now=30)
('', 'rate limited')
>>> gate.admit(n("a"), "slack", now=700)
''
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence

from healops.itsm.notify.base import Delivery, Notification, Notifier

__all__ = ["PageGate", "Router"]


class PageGate:
    def __init__(self, *, dedup_window_s: float, rate_count: int, rate_window_s: float) -> None:
        self.dedup_window_s, self.rate_count, self.rate_window_s = \
            dedup_window_s, rate_count, rate_window_s
        self._sent: dict[tuple[str, str, str, int], float] = {}
        self._rate: dict[str, deque[float]] = {}

    def admit(self, n: Notification, channel: str, *, now: float) -> str:
        """'' when the notification may go out on ``channel`` now, else why not."""
        key = (channel, n.dedup_key, n.action, n.level)
        last = self._sent.get(key)
        if last is not None and now - last < self.dedup_window_s:
            return "duplicate"
        if n.action == "trigger":
            q = self._rate.setdefault(channel, deque())
            while q and q[0] <= now - self.rate_window_s:
                q.popleft()
            if len(q) >= self.rate_count:
                return "rate limited"
            q.append(now)
        self._sent[key] = now
        if len(self._sent) > 10_000:  # forget what is out of every window
            self._sent = {k: t for k, t in self._sent.items()
                          if now - t < self.dedup_window_s}
        return ""


class Router:
    """Sends a notification to the named channels (all of them when none are named).

    A delivery that failed recoverably (timeout, 5xx, 429) is retried by ``flush(now)``
    with exponential backoff, up to ``max_attempts`` in all; the gate is not consulted
    again for a retry (the first attempt already counted).
    """

    def __init__(self, notifiers: Mapping[str, Notifier], gate: PageGate, *,
                 max_attempts: int = 5, backoff_s: float = 30.0) -> None:
        self.notifiers, self.gate = dict(notifiers), gate
        self.max_attempts, self.backoff_s = max_attempts, backoff_s
        self.retries: list[tuple[float, int, str, Notification]] = []  # due, attempt, channel

    def send(self, n: Notification, channels: Sequence[str] = (), *,
             now: float) -> dict[str, Delivery]:
        out: dict[str, Delivery] = {}
        for name in channels or list(self.notifiers):
            notifier = self.notifiers.get(name)
            if notifier is None:
                out[name] = Delivery(False, False, "no such channel")
                continue
            why = self.gate.admit(n, name, now=now)
            out[name] = Delivery(False, False, why) if why else self._try(name, n, 1, now)
        return out

    def flush(self, now: float) -> dict[tuple[str, str], Delivery]:
        """Retry the deliveries that are due; returns (channel, dedup key) -> delivery."""
        due = [r for r in self.retries if r[0] <= now]
        self.retries = [r for r in self.retries if r[0] > now]
        return {(ch, n.dedup_key): self._try(ch, n, attempt, now) for _, attempt, ch, n in due}

    def _try(self, channel: str, n: Notification, attempt: int, now: float) -> Delivery:
        d = self.notifiers[channel].notify(n)
        if not d.ok and d.recoverable and attempt < self.max_attempts:
            self.retries.append((now + self.backoff_s * 2 ** (attempt - 1), attempt + 1,
                                 channel, n))
        return d
