"""Steady traffic with a daily shape, compressed: one lab "day" lasts ``day_s`` seconds.

The generator sends ``GET /work`` to the entry point (HAProxy, or the api replicas in
turn) and logins to the auth service, a few of them with a wrong password as real users
do. ``surge`` multiplies the rate for a while; ``attack`` adds a burst of failed logins
from one source. Every answer is kept for a few seconds: that is the lab's own SLI, the
ground truth the scoreboard may use and the engine never sees.

>>> shape = DailyShape(base_rps=4.0, day_s=600.0, amplitude=0.3)
>>> round(shape.rate(0.0), 2), round(shape.rate(150.0), 2)
(4.0, 5.2)
"""

from __future__ import annotations

import json
import math
import random
import ssl
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

__all__ = ["DailyShape", "LoadGenerator"]


@dataclass(frozen=True, slots=True)
class DailyShape:
    base_rps: float
    day_s: float = 600.0
    amplitude: float = 0.3

    def rate(self, t: float) -> float:
        return self.base_rps * (1.0 + self.amplitude * math.sin(2 * math.pi * t / self.day_s))


class LoadGenerator:
    """A thread that paces requests; ``sli(window_s)`` is the share that succeeded."""

    def __init__(self, *, entry: Callable[[], list[str]], auth_url: str, ca_file: str,
                 shape: DailyShape, login_rps: float = 0.5, seed: int = 0) -> None:
        self._entry = entry
        self._auth = auth_url
        self._ctx = ssl.create_default_context(cafile=ca_file)
        self.shape = shape
        self.login_rps = login_rps
        self._rng = random.Random(seed)
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="loadgen")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="loadgen", daemon=True)
        self.results: deque[tuple[float, bool, float]] = deque(maxlen=4000)
        self._lock = threading.Lock()
        self.surge = 1.0
        self.surge_until = 0.0
        self.attack_source = ""
        self.attack_rps = 0.0
        self.attack_until = 0.0
        self._rr = 0

    def start(self) -> None:
        self._t0 = time.monotonic()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._pool.shutdown(wait=True, cancel_futures=True)

    def sli(self, window_s: float = 5.0) -> tuple[float, float]:
        """(success ratio, p99 latency in ms) of the requests answered in the window."""
        cutoff = time.time() - window_s
        with self._lock:
            recent = [r for r in self.results if r[0] >= cutoff]
        if not recent:
            return math.nan, math.nan
        ok = sum(1 for r in recent if r[1]) / len(recent)
        lat = sorted(r[2] for r in recent)
        return ok, lat[min(len(lat) - 1, int(0.99 * len(lat)))]

    def _run(self) -> None:
        next_work = next_login = next_attack = time.monotonic()
        while not self._stop.is_set():
            now = time.monotonic()
            wall = time.time()
            rate = self.shape.rate(now - self._t0) * (self.surge if wall < self.surge_until
                                                      else 1.0)
            if now >= next_work:
                self._pool.submit(self._work)
                next_work += self._rng.expovariate(max(rate, 0.01))
                next_work = max(next_work, now - 1.0)
            if now >= next_login:
                self._pool.submit(self._login, self._rng.random() < 0.15,
                                  f"10.0.0.{self._rng.randint(2, 9)}")
                next_login += self._rng.expovariate(max(self.login_rps, 0.01))
                next_login = max(next_login, now - 1.0)
            if wall < self.attack_until and now >= next_attack:
                self._pool.submit(self._login, True, self.attack_source)
                next_attack = now + 1.0 / max(self.attack_rps, 0.1)
            self._stop.wait(0.02)

    def _work(self) -> None:
        urls = self._entry()
        self._rr += 1
        url = urls[self._rr % len(urls)] + "/work"
        t0 = time.perf_counter()
        ok = False
        try:
            with urllib.request.urlopen(url, timeout=3.0) as r:
                ok = r.status == 200
        except (urllib.error.URLError, OSError):
            ok = False
        with self._lock:
            self.results.append((time.time(), ok, (time.perf_counter() - t0) * 1000.0))

    def _login(self, wrong: bool, source: str) -> None:
        body = json.dumps({"user": "alice", "password": "nope" if wrong else "lab-secret",
                           "source": source}).encode()
        req = urllib.request.Request(self._auth + "/login", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=3.0, context=self._ctx):
                pass
        except (urllib.error.URLError, OSError):
            pass
