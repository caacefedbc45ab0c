"""The configuration models. ``extra="forbid"`` everywhere: a typo is an error, not a default."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    FiniteFloat,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from healops.config.itsm import ItsmConfig
from healops.domain.topology import Service, Topology

__all__ = [
    "CorrelationConfig",
    "DetectionConfig",
    "DiagnosisConfig",
    "FaultPattern",
    "HealopsConfig",
    "InhibitRuleConfig",
    "MaintenanceWindowConfig",
    "PolicyConfig",
    "RunbookConfig",
    "RunbookStep",
    "ServiceConfig",
    "SilenceConfig",
    "SymptomRule",
    "Timestamp",
    "TopologyConfig",
]

Risk = Literal["low", "medium", "high"]
Baseline = Literal["ensemble", "ewma"]
Gate = Literal["auto", "approval", "escalate"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServiceConfig(_Model):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,62}$")
    depends_on: list[str] = []
    tier: int = Field(2, ge=1, le=4, description="1 is the most business-critical tier.")
    owner: str = ""
    replicas: int = Field(1, ge=1)
    stateful: bool = False


class TopologyConfig(_Model):
    services: list[ServiceConfig] = []

    @model_validator(mode="after")
    def _known_dependencies(self) -> TopologyConfig:
        names = {s.name for s in self.services}
        if len(names) != len(self.services):
            raise ValueError("service names must be unique")
        for s in self.services:
            for d in s.depends_on:
                if d not in names:
                    raise ValueError(
                        f"service {s.name!r} depends on {d!r}, which is not declared; "
                        f"add it to topology.services or remove it from depends_on"
                    )
        return self

    def build(self) -> Topology:
        return Topology.build(
            Service(s.name, tuple(s.depends_on), s.tier, s.owner, s.replicas, (), s.stateful)
            for s in self.services
        )


class SymptomRule(_Model):
    """A rule turning one metric into a symptom, like a Prometheus alerting rule.

    ``transform``: ``value`` compares the sample itself; ``rate`` compares its per-second
    increase (for counters); ``increase`` compares how much a counter rose over about the
    last ``window_s`` (an exponentially decayed sum, like ``increase(x[5m])``, so a crash
    loop's restarts every few minutes hold the symptom instead of blinking it on at each
    restart); ``time_to_limit`` compares the seconds until the linear trend
    reaches ``limit`` (like ``predict_linear``); ``zscore`` compares the z-score of the value
    against the series' own learned baseline, which ``baseline`` names (ADR 0007):
    ``ensemble`` the default detector, ``EnsembleBank`` (one row per series, its slow mean
    and spread; its surprise goes with the symptom as evidence), ``ewma`` an exponentially
    weighted mean and MAD; unset, the rule takes ``detection.baseline``.
    """

    metric: str
    kind: str
    transform: Literal["value", "rate", "increase", "time_to_limit", "zscore"] = "value"
    op: Literal[">", "<"] = ">"
    threshold: float
    limit: float = 1.0
    min_ratio: float = Field(0.0, ge=0, description="zscore only: also need value/baseline >= this")
    trend_s: float = Field(300.0, gt=0, description="time_to_limit: slope smoothing window")
    window_s: float = Field(300.0, gt=0, description="increase: the window counted over")
    for_s: float = Field(0.0, ge=0, description="how long the condition must hold to fire")
    clear_s: float = Field(0.0, ge=0, description="how long it must be false to clear")
    baseline: Baseline | None = Field(
        None, description="zscore only: the learned baseline; unset takes detection.baseline")


class DetectionConfig(_Model):
    rules: list[SymptomRule] = []
    warmup_s: float = Field(600.0, ge=0, description="zscore rules cannot fire before this")
    baseline_halflife_s: float = Field(3600.0, gt=0)
    baseline: Baseline = Field(
        "ensemble", description="the learned baseline of zscore rules that name none: "
        "ensemble (EnsembleBank, the default detector) or ewma (weighted mean and MAD)")

    @model_validator(mode="after")
    def _resolve_baselines(self) -> DetectionConfig:
        # The section's choice is written into every zscore rule that left it open, so
        # the symptom stage gets complete rules and one rule can still name its own.
        rules = [r.model_copy(update={"baseline": self.baseline})
                 if r.transform == "zscore" and r.baseline is None else r for r in self.rules]
        object.__setattr__(self, "rules", rules)
        return self


def _unix_seconds(v: object) -> object:
    """Unix seconds as they are, or an ISO-8601 time with a UTC offset (YAML may already
    have made it a datetime)."""
    if isinstance(v, str):
        text = v.strip()
        try:
            return float(text)
        except ValueError:
            pass
        try:
            v = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{v!r} is neither Unix seconds nor an ISO-8601 time; write "
                             "e.g. 1799100000 or 2027-01-04T22:00:00Z") from None
    if isinstance(v, datetime):
        if v.tzinfo is None:
            raise ValueError(f"{v.isoformat()} has no UTC offset; add one, e.g. "
                             f"{v.isoformat()}Z")
        return v.timestamp()
    if isinstance(v, date):
        raise ValueError(f"{v.isoformat()} is a date without a time; write e.g. "
                         f"{v.isoformat()}T00:00:00Z")
    return v


Timestamp = Annotated[
    FiniteFloat, BeforeValidator(_unix_seconds),
    WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "string", "format": "date-time"}],
                    "description": "Unix seconds, or an ISO-8601 time with a UTC offset"}),
]


def _check_matchers(texts: list[str]) -> list[str]:
    # Imported here: healops.correlate imports this module.
    from healops.correlate.silences import parse_matcher

    for text in texts:
        parse_matcher(text)
    return texts


class SilenceConfig(_Model):
    """A silence declared in the file: it mutes matching anomalies between ``starts_at``
    and ``ends_at``, and comes back with every start (those made through the API live in
    memory only)."""

    id: str = Field("", pattern=r"^([A-Za-z0-9_.:-]{1,64})?$",
                    description="a stable id; empty: config-<position, from 1>")
    matchers: list[str] = Field(
        min_length=1, description='Alertmanager matchers over the anomaly\'s labels (series '
        'labels, __name__, service, instance, kind), all of which must match: '
        'service="db", kind=~"errors|latency", instance!="db-2", __name__!~"disk_.*"')
    starts_at: Timestamp = Field(0.0, description="when it starts muting; default: always")
    ends_at: Timestamp = Field(description="when it stops muting (not included)")
    created_by: str = "config"
    comment: str = Field(min_length=1, description="why, e.g. a change ticket")

    @field_validator("matchers")
    @classmethod
    def _parse(cls, v: list[str]) -> list[str]:
        from healops.correlate.silences import check_matchers

        check_matchers(v)
        return v

    @model_validator(mode="after")
    def _ends_after_start(self) -> SilenceConfig:
        if self.ends_at <= self.starts_at:
            raise ValueError(f"ends_at ({self.ends_at}) is not after starts_at "
                             f"({self.starts_at}); give an end after the start")
        return self


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class MaintenanceWindowConfig(_Model):
    """While the window is open the services' anomalies open no incident. One-off: ``start``
    and ``end``; weekly: ``days``, ``at`` (UTC) and ``duration_s``."""

    name: str = ""
    services: list[str] = Field(min_length=1, description="the services it covers")
    start: Timestamp | None = Field(None, description="one-off: when it opens")
    end: Timestamp | None = Field(None, description="one-off: when it closes (not included)")
    days: list[Weekday] = Field([], description="weekly: the days it opens on, in UTC")
    at: str = Field("", pattern=r"^(([01][0-9]|2[0-3]):[0-5][0-9])?$",
                    description="weekly: when it opens, HH:MM UTC")
    duration_s: float = Field(0.0, ge=0, le=7 * 86_400,
                              description="weekly: how long it stays open, at most a week")

    @model_validator(mode="after")
    def _one_kind(self) -> MaintenanceWindowConfig:
        once = self.start is not None or self.end is not None
        weekly = bool(self.days or self.at or self.duration_s)
        if once and weekly:
            raise ValueError("a maintenance window is either one-off (start and end) or weekly "
                             "(days, at and duration_s); this one mixes both, keep one kind")
        if once:
            if self.start is None or self.end is None:
                raise ValueError("a one-off maintenance window needs both start and end")
            if self.end <= self.start:
                raise ValueError(f"end ({self.end}) is not after start ({self.start}); give "
                                 "an end after the start")
        elif not (self.days and self.at and self.duration_s > 0):
            raise ValueError("give start and end (one-off), or days, at and duration_s "
                             "(weekly, e.g. days: [sun], at: \"02:00\", duration_s: 7200)")
        return self


class InhibitRuleConfig(_Model):
    """While a source-kind anomaly is live on a service, target-kind anomalies in the scope
    open no incident of their own; they still join one that grouping finds for them."""

    source_kinds: list[str] = Field(min_length=1, description="e.g. [down]")
    target_kinds: list[str] = Field(min_length=1, description="e.g. [errors, latency]")
    scope: Literal["callers", "same_service"] = Field(
        "callers", description="callers: services calling the source's service within "
        "max_hops calls; same_service: the source's service itself")
    max_hops: int = Field(2, ge=1, description="callers: how many calls away at most")
    source_matchers: list[str] = Field(
        [], description="Alertmanager matchers the source must also match")
    target_matchers: list[str] = Field(
        [], description="Alertmanager matchers the target must also match")

    _sources = field_validator("source_matchers")(_check_matchers)
    _targets = field_validator("target_matchers")(_check_matchers)


class CorrelationConfig(_Model):
    group_window_s: float = Field(300.0, ge=0)
    max_hops: int = Field(2, ge=0)
    propagating_kinds: list[str] = ["errors", "latency", "down"]
    flap_window_s: float = Field(600.0, gt=0)
    flap_transitions: int = Field(
        6, ge=2, description="this many fire/clear changes within the window = flapping"
    )
    resolve_after_s: float = Field(60.0, ge=0, description="quiet time before auto-resolving")
    silences: list[SilenceConfig] = Field(
        [], description="silences kept in the file; the API adds more at runtime (in memory)")
    maintenance: list[MaintenanceWindowConfig] = Field(
        [], description="maintenance windows: their services' anomalies open no incident")
    inhibit: list[InhibitRuleConfig] = Field(
        [InhibitRuleConfig(source_kinds=["down"], target_kinds=["errors", "latency"])],
        description="inhibition rules; default: a down service inhibits its callers' "
        "errors and latency within 2 calls ([] turns inhibition off)")

    @model_validator(mode="after")
    def _silence_ids_unique(self) -> CorrelationConfig:
        ids = [s.id or f"config-{n}" for n, s in enumerate(self.silences, 1)]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"silence id {twice[0]!r} is used twice in correlation.silences "
                             "(a silence without an id is config-<its position>); rename one")
        return self


class FaultPattern(_Model):
    """How a fault looks from the outside, in symptoms; data, so new ones need no code."""

    name: str
    all_of: list[str] = []
    any_of: list[str] = []
    none_of: list[str] = []
    change_within_s: float | None = Field(None, description="needs a deploy of the service")
    scope: Literal["any", "single_instance", "service"] = "any"
    deepest: bool = Field(False, description="only when no anomalous callee explains it")
    security: bool = False
    weight: float = Field(1.0, gt=0, le=1)


class DiagnosisConfig(_Model):
    settle_s: float = Field(
        30.0, ge=0, description="a symptom must hold this long, unbroken, before diagnosis"
    )
    ambiguity_margin: float = Field(0.15, ge=0, le=1)
    faults: list[FaultPattern] = []
    rank: bool = Field(
        True, description="also rank root causes from the metric history "
        "(healops.diagnose.ranked: the code `healops bench rca` measures) and merge the "
        "ranking into the symptom diagnosis; false: the symptom diagnosis alone")
    history_samples: int = Field(
        360, ge=16, le=100_000, description="samples of every series the engine keeps for "
        "the ranking (one per metric batch); memory grows with series x samples")
    rank_before_samples: int = Field(
        60, ge=4, description="samples before an incident's first symptom that are its "
        "baseline for the ranking")


class RunbookStep(_Model):
    action: str
    target: Literal["service", "instance"] = "service"
    params: dict[str, str | int | float | bool] = {}
    timeout_s: float = Field(60.0, gt=0)
    undo: str = ""
    verify_window_s: float = Field(30.0, ge=0)
    verify_ignore_kinds: list[str] = Field(
        [], description="symptom kinds that may persist after a good fix because they are "
        "the load, not the harm (a surge's traffic after scaling out)",
    )
    on_failure: Literal["next", "undo", "escalate"] = "next"
    then: Literal["stop", "continue"] = Field(
        "stop", description="after this step is verified: stop, or run the next step too"
    )


class RunbookConfig(_Model):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    description: str = ""
    fault: str = Field(description="the diagnosed fault this runbook fixes")
    services: list[str] = Field([], description="limit to these services; empty means any")
    risk: Risk = "low"
    steps: list[RunbookStep] = Field(min_length=1)


class RateLimit(_Model):
    count: int = Field(ge=1)
    window_s: float = Field(gt=0)


class BlastRadius(_Model):
    max_fraction: float = Field(0.5, gt=0, le=1)
    min_healthy: int = Field(1, ge=0)


class FreezeWindow(_Model):
    start: float = Field(description="Unix seconds")
    end: float
    services: list[str] = []
    reason: str = ""


class Autonomy(_Model):
    """Autonomy is earned: a runbook step that needed approval runs on its own once it has
    been verified to fix the same signature ``earn_after`` times in a row (one failure starts
    the count again). Only risks up to ``up_to_risk`` can be earned; escalate-only never."""

    earn_after: int = Field(5, ge=0, description="0: autonomy is never earned")
    up_to_risk: Risk = "medium"


class PolicyConfig(_Model):
    mode: Literal["auto", "shadow", "manual"] = Field(
        "auto", description="shadow: recommend, never act; manual: page a human for everything"
    )
    min_confidence: float = Field(0.7, ge=0, le=1)
    gates: dict[Risk, Gate] = {"low": "auto", "medium": "approval", "high": "escalate"}
    per_target: RateLimit = Field(
        RateLimit(count=3, window_s=3600),
        description="the same action on the same target at most `count` times per window",
    )
    global_limit: RateLimit = RateLimit(count=30, window_s=600)
    circuit_breaker: RateLimit = RateLimit(count=3, window_s=86400)
    autonomy: Autonomy = Autonomy()
    blast_radius: BlastRadius = BlastRadius()
    freeze_windows: list[FreezeWindow] = []


class HealopsConfig(_Model):
    topology: TopologyConfig = TopologyConfig()
    detection: DetectionConfig = DetectionConfig()
    correlation: CorrelationConfig = CorrelationConfig()
    diagnosis: DiagnosisConfig = DiagnosisConfig()
    runbooks: list[RunbookConfig] = []
    policy: PolicyConfig = PolicyConfig()
    itsm: ItsmConfig = ItsmConfig()
    store_url: str = "sqlite:///var/healops.db"

    @model_validator(mode="after")
    def _runbook_names_unique(self) -> HealopsConfig:
        seen: set[str] = set()
        for rb in self.runbooks:
            if rb.name in seen:
                raise ValueError(f"runbook {rb.name!r} is defined twice; rename one")
            seen.add(rb.name)
        return self
