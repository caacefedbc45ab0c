"""What healops sees of the live estate: scrapes and probes, turned into the series the
default symptom rules name.

Each replica's ``/metrics`` is scraped (``PrometheusScrapeSource``), and the raw counters
and histogram become per-instance gauges over a short window, the way recording rules
would in Prometheus: ``requests_per_s`` (summed per service), ``error_ratio`` (5xx
share), ``latency_p99_ms``, ``saturation``, ``memory_ratio``, ``process_restarts_total`` (changes of
``process_start_time_seconds`` on the same version: a new version starting is a rollout),
``process_restarts_recent`` (restarts in the last 8 s, which stays up through a crash loop
where a per-scrape rate flickers) and ``up``. Probes add ``cert_expiry_seconds`` (a TLS
handshake) and ``disk_used_ratio`` (each replica's directory against its volume quota);
``auth_failed_logins_per_s`` keeps the ``source`` label so an escalation can name it.

>>> histogram_quantile(0.99, [(0.1, 50.0), (0.25, 100.0), (float("inf"), 100.0)])
0.247
"""

from __future__ import annotations

import math
import ssl
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import httpx
import numpy as np

from healops.domain.signals import MetricBatch, SeriesKey, Signal
from healops.observe.base import SourceError
from healops.observe.disk_probe import directory_size
from healops.observe.scrape import PrometheusScrapeSource, ScrapeTarget
from healops.observe.tls_probe import TlsCertificateSource, TlsTarget

__all__ = ["InstanceView", "LiveTelemetry", "histogram_quantile"]

WINDOW_S = 5.0
RESTART_WINDOW_S = 8.0


def histogram_quantile(q: float, buckets: Sequence[tuple[float, float]]) -> float:
    """Prometheus' ``histogram_quantile`` over cumulative (upper bound, count) pairs."""
    if not buckets or buckets[-1][1] <= 0:
        return math.nan
    rank = q * buckets[-1][1]
    lower, below = 0.0, 0.0
    for upper, count in buckets:
        if count >= rank:
            if math.isinf(upper):
                return lower
            if count == below:
                return upper
            return round(lower + (upper - lower) * (rank - below) / (count - below), 6)
        lower, below = upper, count
    return lower


@dataclass
class _Snap:
    t: float
    requests: float
    errors: float
    buckets: tuple[tuple[float, float], ...]
    failed: dict[str, float]


@dataclass
class InstanceView:
    """The last derived values of one replica, for the terminal view and the router."""

    service: str
    instance: str
    up: bool = False
    values: dict[str, float] = field(default_factory=dict)
    pid: int = 0
    version: str = ""
    restarts: int = 0
    restarted_at: deque[float] = field(default_factory=deque)
    start_time: float = 0.0
    history: deque[_Snap] = field(default_factory=deque)


class LiveTelemetry:
    """``poll(now)`` scrapes and probes everything once and returns one metric batch."""

    def __init__(self, *, instances: Callable[[], list[tuple[str, str, str]]],
                 volume: Callable[[str], str], quota_bytes: int,
                 tls: Sequence[TlsTarget], ca_file: str, timeout_s: float = 0.8,
                 traffic_services: set[str] | None = None) -> None:
        self._instances = instances  # () -> [(service, instance, base url)]
        self._volume = volume
        self._quota = quota_bytes
        # Traffic is judged where it enters (the edge): a surge there is seen once, not once
        # per service it passes through. None: every service.
        self._traffic = traffic_services
        self._tls = TlsCertificateSource(tls, timeout=timeout_s)
        ctx = ssl.create_default_context(cafile=ca_file)
        self._client = httpx.Client(verify=ctx, timeout=timeout_s)
        self._scrape = PrometheusScrapeSource([], client=self._client, timeout=timeout_s)
        self.views: dict[str, InstanceView] = {}
        self._keys: tuple[SeriesKey, ...] = ()
        self._names: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()

    def close(self) -> None:
        self._client.close()

    def poll(self, now: float) -> MetricBatch:
        rows: list[tuple[str, dict[str, str], float]] = []
        wanted = self._instances()
        for name in [i for i in self.views if i not in {w[1] for w in wanted}]:
            del self.views[name]
        traffic: dict[str, list[float]] = {}
        for service, instance, url in wanted:
            view = self.views.setdefault(instance, InstanceView(service, instance))
            self._scrape_one(view, url, now)
            labels = {"service": service, "instance": instance}
            for metric, value in view.values.items():
                if metric == "requests_per_s":
                    if self._traffic is None or service in self._traffic:
                        traffic.setdefault(service, []).append(value)
                    continue
                if metric.startswith("auth_failed_logins_per_s|"):
                    source = metric.split("|", 1)[1]
                    rows.append(("auth_failed_logins_per_s",
                                 {"service": service, "source": source}, value))
                else:
                    rows.append((metric, labels, value))
            rows.append(("disk_used_ratio", labels, self._disk(instance)))
        # Traffic is a service's, like `sum by (service) (rate(http_requests_total[5s]))`
        # at the load balancer: a surge hits the service, not one replica, and adding a
        # replica must not look like traffic falling away.
        for service, values in traffic.items():
            seen = [v for v in values if not math.isnan(v)]
            rows.append(("requests_per_s", {"service": service},
                         sum(seen) if seen else math.nan))
        for sample in self._tls(now):
            if sample.key.name == "tls_cert_expiry_seconds":
                rows.append(("cert_expiry_seconds", {"service": sample.key.service},
                             sample.value))
        names = tuple((m, tuple(sorted(lbl.items()))) for m, lbl, _ in rows)
        if names != self._names:
            self._names = names
            self._keys = tuple(SeriesKey(m, lbl) for m, lbl in names)
        return MetricBatch(now, self._keys, np.array([v for _, _, v in rows], dtype=float))

    def _disk(self, instance: str) -> float:
        try:
            return directory_size(self._volume(instance)) / self._quota
        except OSError:
            return math.nan

    def _scrape_one(self, view: InstanceView, url: str, now: float) -> None:
        target = ScrapeTarget(url + "/metrics", job=view.service, instance=view.instance)
        try:
            signals = self._scrape.scrape(target, now)
        except SourceError:
            view.up = False
            while view.restarted_at and view.restarted_at[0] < now - RESTART_WINDOW_S:
                view.restarted_at.popleft()
            view.values = {"up": 0.0, "process_restarts_total": float(view.restarts),
                           "process_restarts_recent": float(len(view.restarted_at))}
            return
        raw = _flatten(signals)
        start = raw.get(("process_start_time_seconds", ()), 0.0)
        version = view.version
        for (name, labels), _ in raw.items():
            if name == "lab_info":
                d = dict(labels)
                view.pid, version = int(d.get("pid", "0")), d.get("version", "")
        if view.start_time and start != view.start_time:
            # A new process on the same version is a restart; on a new one, a rollout.
            if version == view.version:
                view.restarts += 1
                view.restarted_at.append(now)
            view.history.clear()
        view.start_time, view.version = start, version
        while view.restarted_at and view.restarted_at[0] < now - RESTART_WINDOW_S:
            view.restarted_at.popleft()
        snap = _snapshot(now, raw)
        view.history.append(snap)
        while len(view.history) > 2 and view.history[1].t <= now - WINDOW_S:
            view.history.popleft()
        old = view.history[0]
        dt = max(now - old.t, 1e-9)
        d_req = snap.requests - old.requests
        d_err = snap.errors - old.errors
        d_buckets = [(b, c - oc) for (b, c), (_, oc) in zip(snap.buckets, old.buckets,
                                                              strict=True)]
        rss = raw.get(("process_resident_memory_bytes", ()), math.nan)
        limit = raw.get(("process_memory_limit_bytes", ()), math.nan)
        view.up = True
        view.values = {
            "up": 1.0,
            "requests_per_s": d_req / dt if len(view.history) > 1 else math.nan,
            "error_ratio": d_err / d_req if d_req > 0 else math.nan,
            "latency_p99_ms": histogram_quantile(0.99, d_buckets) * 1000.0
            if d_req > 0 else math.nan,
            "saturation": raw.get(("saturation_ratio", ()), math.nan),
            "memory_ratio": rss / limit if limit else math.nan,
            "process_restarts_total": float(view.restarts),
            "process_restarts_recent": float(len(view.restarted_at)),
        }
        if len(view.history) > 1:
            for source, n in snap.failed.items():
                view.values[f"auth_failed_logins_per_s|{source}"] = \
                    (n - old.failed.get(source, 0.0)) / dt


def _flatten(signals: list[Signal]) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    drop = {"job", "instance"}
    for sig in signals:
        if isinstance(sig, MetricBatch):
            for key, value in zip(sig.keys, sig.values, strict=True):
                labels = tuple((k, v) for k, v in key.labels if k not in drop)
                out[(key.name, labels)] = float(value)
    return out


def _snapshot(now: float, raw: dict[tuple[str, tuple[tuple[str, str], ...]], float]) -> _Snap:
    requests = errors = 0.0
    buckets: list[tuple[float, float]] = []
    failed: dict[str, float] = {}
    for (name, labels), value in raw.items():
        d = dict(labels)
        if name == "http_requests_total":
            requests += value
            if d.get("code", "").startswith("5"):
                errors += value
        elif name == "http_request_duration_seconds_bucket":
            le = d.get("le", "+Inf")
            buckets.append((math.inf if le == "+Inf" else float(le), value))
        elif name == "auth_failed_logins_total":
            failed[d.get("source", "")] = value
    buckets.sort()
    return _Snap(now, requests, errors, tuple(buckets), failed)
