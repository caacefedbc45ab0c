"""The configuration models. ``extra="forbid"`` everywhere: a typo is an error, not a default."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from healops.config.itsm import ItsmConfig
from healops.domain.topology import Service, Topology

__all__ = [
    "CorrelationConfig",
    "DetectionConfig",
    "DiagnosisConfig",
    "FaultPattern",
    "HealopsConfig",
    "PolicyConfig",
    "RunbookConfig",
    "RunbookStep",
    "ServiceConfig",
    "SymptomRule",
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


class CorrelationConfig(_Model):
    group_window_s: float = Field(300.0, ge=0)
    max_hops: int = Field(2, ge=0)
    propagating_kinds: list[str] = ["errors", "latency", "down"]
    flap_window_s: float = Field(600.0, gt=0)
    flap_transitions: int = Field(
        6, ge=2, description="this many fire/clear changes within the window = flapping"
    )
    resolve_after_s: float = Field(60.0, ge=0, description="quiet time before auto-resolving")


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
