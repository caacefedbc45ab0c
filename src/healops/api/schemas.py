"""The API's request and response bodies. They are what the OpenAPI document promises."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from healops.api.tokens import Role

__all__ = [
    "ApprovalIn",
    "ApprovalOut",
    "DashboardOut",
    "ErrorOut",
    "HealthOut",
    "HypothesisOut",
    "IncidentDetail",
    "IncidentSummary",
    "PendingStepOut",
    "RejectIn",
    "RunbookOut",
    "ServiceOut",
    "TimelineEntryOut",
    "TokenCreated",
    "TokenIn",
    "TokenOut",
]


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ErrorOut(_Out):
    error: str = Field(description="a stable machine-readable code")
    message: str = Field(description="what went wrong and how to fix it")


class HealthOut(_Out):
    status: str
    checks: dict[str, str] = {}


class TimelineEntryOut(_Out):
    ts: float
    kind: str
    message: str
    data: dict[str, Any] = {}


class IncidentSummary(_Out):
    id: str
    service: str
    services: list[str]
    state: str
    signature: str
    priority: str | None = Field(None, description="P1..P5 when the ITSM record has one")
    opened_at: float
    updated_at: float
    resolved_at: float | None
    escalated_at: float | None
    awaiting_approval: bool


class HypothesisOut(_Out):
    component: str
    fault: str
    confidence: float
    target: str
    runbook: str
    evidence: list[str]


class PendingStepOut(_Out):
    runbook: str
    action: str
    target: str
    risk: str
    confidence: float


class DecisionOut(_Out):
    ts: float
    action: str
    target: str
    verdict: str
    rule: str
    reason: str


class ActionOut(_Out):
    key: str
    action: str
    target: str
    intent_at: float
    finished_at: float | None
    ok: bool | None
    message: str
    dry_run: bool


class IncidentDetail(IncidentSummary):
    hypotheses: list[HypothesisOut]
    diagnosis: str
    pending: list[PendingStepOut]
    tried: list[str]
    similar: list[str]
    decisions: list[DecisionOut]
    actions: list[ActionOut]
    timeline: list[TimelineEntryOut]


class ApprovalIn(_In):
    comment: str = Field("", max_length=2000)


class RejectIn(_In):
    comment: str = Field(min_length=1, max_length=2000,
                         description="why the action was rejected; it goes into the timeline")


class ApprovalOut(_Out):
    incident_id: str
    verdict: str
    by: str
    state: str


class RunbookStepOut(_Out):
    action: str
    target: str
    verify_window_s: float
    on_failure: str


class RunbookOut(_Out):
    name: str
    description: str
    fault: str
    risk: str
    services: list[str]
    steps: list[RunbookStepOut]
    successes: int
    failures: int


class ServiceOut(_Out):
    name: str
    tier: int
    depends_on: list[str]
    health: str = Field(description="ok, degraded (an incident is active) or acting")
    incidents: list[str]


class DashboardOut(_Out):
    incidents: int
    active: int
    resolved: int
    auto_resolved: int
    auto_resolution_rate: float | None
    mttd_s: float | None = Field(None, description="mean first-symptom-to-incident time")
    mttr_s: float | None = Field(None, description="mean open-to-resolved time")
    pages: int
    tickets: int
    by_state: dict[str, int]


class TokenIn(_In):
    role: Role
    name: str = Field(min_length=1, max_length=100, pattern=r"^[\w .@-]+$")


class TokenOut(_Out):
    id: str
    name: str
    role: Role
    created_at: float
    revoked_at: float | None


class TokenCreated(TokenOut):
    token: str = Field(description="shown once; only its hash is stored")
