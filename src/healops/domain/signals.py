"""What comes in: metric samples, alerts, log events, change events; and what detection
makes of them: anomalies.

A series is named like a Prometheus series: a metric name plus labels. By convention the
labels ``service`` and ``instance`` place a series in the topology.

>>> key = SeriesKey.of("error_ratio", service="api", instance="api-1")
>>> key.service, key.instance, str(key)
('api', 'api-1', 'error_ratio{instance="api-1",service="api"}')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

__all__ = [
    "Alert",
    "Anomaly",
    "ChangeEvent",
    "LogEvent",
    "MetricBatch",
    "Sample",
    "SeriesKey",
    "Signal",
]


@dataclass(frozen=True, slots=True)
class SeriesKey:
    """A metric name and its sorted labels; hashable and cheap to compare."""

    name: str
    labels: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, name: str, **labels: str) -> SeriesKey:
        return cls(name, tuple(sorted(labels.items())))

    @classmethod
    def from_mapping(cls, name: str, labels: Mapping[str, str]) -> SeriesKey:
        return cls(name, tuple(sorted(labels.items())))

    def label(self, name: str, default: str = "") -> str:
        for k, v in self.labels:
            if k == name:
                return v
        return default

    @property
    def service(self) -> str:
        return self.label("service")

    @property
    def instance(self) -> str:
        return self.label("instance")

    def __str__(self) -> str:
        inner = ",".join(f'{k}="{v}"' for k, v in self.labels)
        return f"{self.name}{{{inner}}}"


@dataclass(frozen=True, slots=True)
class Sample:
    """One value of one series at one time."""

    key: SeriesKey
    value: float
    ts: float


@dataclass(frozen=True, slots=True, eq=False)
class MetricBatch:
    """Many series sampled at the same time: one Prometheus scrape, one simulator tick.

    ``keys`` is a tuple so that a source which scrapes the same series every time can pass
    the same object, letting the detector bank reuse its index lookup.
    """

    ts: float
    keys: tuple[SeriesKey, ...]
    values: npt.NDArray[np.float64]

    def __post_init__(self) -> None:
        if len(self.keys) != len(self.values):
            raise ValueError("a metric batch needs one value per key")

    def samples(self) -> list[Sample]:
        return [Sample(k, float(v), self.ts) for k, v in zip(self.keys, self.values, strict=True)]


@dataclass(frozen=True, slots=True)
class Alert:
    """An alert raised by another system (Alertmanager, a generic webhook)."""

    name: str
    labels: tuple[tuple[str, str], ...]
    status: Literal["firing", "resolved"]
    starts_at: float
    ends_at: float | None = None
    annotations: tuple[tuple[str, str], ...] = ()
    fingerprint: str = ""
    source: str = "webhook"

    def label(self, name: str, default: str = "") -> str:
        return dict(self.labels).get(name, default)


@dataclass(frozen=True, slots=True)
class LogEvent:
    """A log line, after template mining when a miner is configured."""

    ts: float
    service: str
    message: str
    level: str = "info"
    instance: str = ""
    template: str = ""


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    """Something changed on purpose: a deploy, a config change, a scaling event, a flag."""

    ts: float
    service: str
    kind: Literal["deploy", "config", "scale", "flag", "rollback"]
    version: str = ""
    previous_version: str = ""
    actor: str = ""
    details: tuple[tuple[str, str], ...] = ()


Signal = Sample | MetricBatch | Alert | LogEvent | ChangeEvent


@dataclass(frozen=True, slots=True)
class Anomaly:
    """A series behaving abnormally, as judged by a detector or a rule.

    ``kind`` is the symptom (``errors``, ``latency``, ``down``, ``restarts``, ``disk_filling``,
    ``cert_expiring``, ``memory_growth``, ``traffic``, ``saturation``, ``auth_failures``, or
    ``anomaly`` for an unexplained deviation); ``score`` is in [0, 1].
    """

    key: SeriesKey
    kind: str
    score: float
    value: float
    baseline: float
    started_at: float
    ts: float
    detail: str = ""
    extra: tuple[tuple[str, float], ...] = field(default=())
    held_s: float = -1.0  # how long the condition has held without a break; -1 when not now

    @property
    def id(self) -> str:
        """One series can break several rules; each (series, rule) is its own symptom."""
        return f"{self.key}#{self.kind}:{self.detail}"

    @property
    def service(self) -> str:
        return self.key.service

    @property
    def instance(self) -> str:
        return self.key.instance
