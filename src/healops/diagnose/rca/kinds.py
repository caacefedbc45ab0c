"""What a metric name says: the kind of resource it measures and whose behaviour it shows.

The *kind* (cpu, memory, latency, errors, network, io, workload) names the likely fault
when that metric dominates. The *role* says whose behaviour the series reflects:

- ``own``: the service itself (its CPU, memory, server-side latency, error rate);
- ``outgoing``: calls the service makes (client-side latency): evidence about its callees;
- ``incoming``: calls made *to* the service, measured by a caller. Such metrics are named
  ``call:<caller>:<name>`` and are stored under the callee.

>>> metric_kind("CpuUsageRate(%)"), metric_kind("carts_lat_90"), metric_kind("mem")
('cpu', 'latency', 'memory')
>>> metric_role("PodClientLatencyP90(s)"), metric_role("call:frontend:latency_src")
('outgoing', 'incoming')
>>> bad_direction("PodSuccessRate(%)"), bad_direction("latency"), bad_direction("PodWorkload(Ops)")
(-1, 1, 0)
>>> call_caller("call:frontend:latency_src")
'frontend'
>>> is_request_percent("SuccessRate(%)"), is_request_percent("CpuUsageRate(%)")
(True, False)
"""

from __future__ import annotations

import re
from typing import Literal

__all__ = [
    "FAULT_KINDS",
    "CALL_PREFIX",
    "FaultKind",
    "Role",
    "bad_direction",
    "call_caller",
    "call_metric",
    "is_request_percent",
    "metric_kind",
    "metric_role",
]

FaultKind = Literal["cpu", "memory", "latency", "errors", "network", "io", "workload", "unknown"]
Role = Literal["own", "outgoing", "incoming"]
FAULT_KINDS: tuple[FaultKind, ...] = (
    "cpu", "memory", "latency", "errors", "network", "io", "workload", "unknown",
)
CALL_PREFIX = "call:"

# Checked in order: the first pattern that matches names the kind.
_KIND_PATTERNS: tuple[tuple[FaultKind, re.Pattern[str]], ...] = (
    ("errors", re.compile(r"err|fail|success|status_?5|5xx|exception", re.I)),
    ("latency", re.compile(r"lat|duration|response_?time|p9\d|p50", re.I)),
    ("cpu", re.compile(r"cpu|throttl", re.I)),
    ("memory", re.compile(r"mem|rss|heap|oom", re.I)),
    ("network", re.compile(r"net|bytes|packet|tcp|rx|tx", re.I)),
    ("io", re.compile(r"disk|io\b|fs|syscall|read|write", re.I)),
    ("workload", re.compile(r"lod|load|workload|qps|rps|ops|request|throughput|count", re.I)),
)
_OUTGOING = re.compile(r"client|outbound|upstream_rq|egress_lat", re.I)
_LOWER_IS_WORSE = re.compile(r"success|avail|uptime|ok_rate", re.I)
_PERCENT = re.compile(r"%|percent|pct", re.I)


def call_metric(caller: str, name: str) -> str:
    """The metric name for ``name`` measured on calls from ``caller`` to the keyed service."""
    return f"{CALL_PREFIX}{caller}:{name}"


def call_caller(metric: str) -> str | None:
    """The caller named by an ``incoming`` metric, None for any other metric."""
    if not metric.startswith(CALL_PREFIX):
        return None
    caller, sep, _ = metric[len(CALL_PREFIX):].partition(":")
    return caller if sep and caller else None


def _base(metric: str) -> str:
    if metric.startswith(CALL_PREFIX):
        return metric[len(CALL_PREFIX):].partition(":")[2]
    return metric


def metric_kind(metric: str) -> FaultKind:
    base = _base(metric)
    for kind, pattern in _KIND_PATTERNS:
        if pattern.search(base):
            return kind
    return "unknown"


def metric_role(metric: str) -> Role:
    if call_caller(metric) is not None:
        return "incoming"
    return "outgoing" if _OUTGOING.search(metric) else "own"


def bad_direction(metric: str) -> int:
    """+1 when a rise is a symptom, -1 when a fall is, 0 when both are (traffic, bytes)."""
    base = _base(metric)
    if _LOWER_IS_WORSE.search(base):
        return -1
    return 0 if metric_kind(metric) in ("workload", "network") else 1


def is_request_percent(metric: str) -> bool:
    """A percentage of requests that succeeded or failed (0 to 100)."""
    return metric_kind(metric) == "errors" and bool(_PERCENT.search(_base(metric)))
