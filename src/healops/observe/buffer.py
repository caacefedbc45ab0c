"""Bridge pushed signals (webhooks, HTTP ingestion) into the pull-shaped ``Source`` port.

``put`` is a sink for the ingestion endpoints; calling the buffer drains what arrived. When
full, the oldest signals are dropped and counted, so a flood cannot exhaust memory.

>>> from healops.domain.signals import ChangeEvent
>>> buffer = BufferSource(capacity=2)
>>> for v in ("1", "2", "3"):
...     buffer.put(ChangeEvent(ts=0.0, service="api", kind="deploy", version=v))
>>> [e.version for e in buffer(now=1.0)], buffer.dropped, list(buffer(now=2.0))
(['2', '3'], 1, [])
"""

from __future__ import annotations

import threading
from collections import deque

from healops.domain.signals import Signal

__all__ = ["BufferSource"]


class BufferSource:
    """A thread-safe bounded queue of signals that is also a ``Source``."""

    def __init__(self, *, capacity: int = 100_000) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._items: deque[Signal] = deque()
        self._capacity = capacity
        self._lock = threading.Lock()
        self.dropped = 0

    def put(self, signal: Signal) -> None:
        with self._lock:
            if len(self._items) >= self._capacity:
                self._items.popleft()
                self.dropped += 1
            self._items.append(signal)

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def __call__(self, now: float) -> list[Signal]:
        with self._lock:
            out = list(self._items)
            self._items.clear()
        return out
