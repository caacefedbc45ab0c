"""The API's request and response bodies. They are what the OpenAPI document promises."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from healops.api.tokens import NAME_PATTERN, Role
from healops.config.models import Timestamp
from healops.correlate.silences import check_matchers, parse_matcher

__all__ = [
    "ActionOut",
    "ActivityBucket",
    "ApprovalIn",
    "AuditEntryOut",
    "AuditVerifyOut",
    "ChangeOut",
    "ConfigReloadOut",
    "IncidentRecordOut",
    "ProblemOut",
    "ApprovalOut",
    "DashboardOut",
    "DecisionOut",
    "ErrorOut",
    "HealthOut",
    "HypothesisOut",
    "IncidentDetail",
    "IncidentSummary",
    "PendingStepOut",
    "RejectIn",
    "RunbookOut",
    "RunbookStepOut",
    "ServiceOut",
    "SilenceIn",
    "SilenceOut",
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
    itil_state: str | None = Field(None, description="new, in_progress, on_hold, resolved "
                                   "or closed, when the ITSM record has one")
    sla_breached: bool = False
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
    record: IncidentRecordOut | None = Field(
        None, description="the ITSM record, when the engine keeps records")
    changes: list[ChangeOut] = []
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


class ConfigReloadOut(_Out):
    source: str = Field(description="the config file that was read")
    changed: list[str] = Field(description="dotted paths that changed (values are not shown)")


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


class ActivityBucket(_Out):
    start: float = Field(description="bucket start, Unix seconds")
    opened: int
    auto_resolved: int
    escalated: int = Field(description="tickets: incidents handed to a human")
    pages: int


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
    availability: dict[str, float] = Field(
        {}, description="per service: mean share of instances up over the kept SLI history")
    bucket_s: float = 3600.0
    activity: list[ActivityBucket] = Field(
        [], description="the last 24 buckets, oldest first, ending at the current clock time")


class TokenIn(_In):
    role: Role
    name: str = Field(pattern=NAME_PATTERN)


class TokenOut(_Out):
    id: str
    name: str
    role: Role
    created_at: float
    revoked_at: float | None


class TokenCreated(TokenOut):
    token: str = Field(description="shown once; only its hash is stored")


class IncidentRecordOut(_Out):
    """The service-desk record of an incident (ITIL state, priority, SLA)."""

    id: str
    title: str
    service: str
    services: list[str]
    state: str
    engine_state: str
    priority: str
    impact: int
    urgency: int
    assignment_group: str
    opened_at: float
    updated_at: float
    response_due_at: float
    resolution_due_at: float
    signature: str
    symptoms: list[str]
    responded_at: float | None
    resolved_at: float | None
    closed_at: float | None
    response_breached_at: float | None
    resolution_breached_at: float | None
    breached: bool
    escalated: bool
    resolution: str
    problem_id: str


class ChangeOut(_Out):
    """A change record: every automated action, standard (pre-approved) or normal."""

    id: str
    incident_id: str
    kind: str
    state: str
    action: str
    target: str
    requested_at: float
    runbook: str
    risk: str
    reason: str
    rule: str
    approved_at: float | None
    approved_by: str
    action_key: str
    dry_run: bool
    started_at: float | None
    finished_at: float | None
    result: str
    outcome: str
    closed_at: float | None
    backout_of: str


class ProblemOut(_Out):
    """A problem record, opened for a recurring signature."""

    id: str
    signature: str
    state: str
    title: str
    opened_at: float
    updated_at: float
    incident_ids: list[str]
    known_error: str
    workaround: str


class AuditEntryOut(_Out):
    seq: int
    ts: float
    actor: str
    kind: str
    subject: str
    data: dict[str, Any]
    prev_hash: str
    hash: str


class AuditVerifyOut(_Out):
    ok: bool
    entries: int
    head: str
    problems: list[str]


IncidentDetail.model_rebuild()


def _matcher(text: str) -> str:
    parse_matcher(text)
    return text


class SilenceIn(_In):
    """A silence: anomalies matching every matcher open and feed no incident until it ends.
    Give ``ends_at`` or ``duration_s`` (from ``starts_at``, which defaults to now)."""

    matchers: list[Annotated[str, Field(max_length=1000), AfterValidator(_matcher)]] = Field(
        min_length=1, max_length=50,
        description='Alertmanager matchers over the anomaly\'s labels (series labels, '
        '__name__, service, instance, kind), all of which must match: service="db", '
        'kind=~"errors|latency", instance!="db-2"; regexes match the whole value')
    starts_at: Timestamp | None = Field(None, description="when it starts; default: now")
    ends_at: Timestamp | None = Field(None, description="when it ends (not included)")
    duration_s: float | None = Field(None, gt=0, le=366 * 86_400,
                                     description="how long from starts_at, instead of ends_at")
    comment: str = Field(min_length=1, max_length=2000,
                         description="why, e.g. a change ticket; it goes into the audit log")

    @field_validator("matchers")
    @classmethod
    def _not_everything(cls, v: list[str]) -> list[str]:
        check_matchers(v)
        return v


class SilenceOut(_Out):
    id: str
    matchers: list[str] = Field(description="as parsed, in canonical form")
    starts_at: float
    ends_at: float
    created_by: str
    comment: str
    state: Literal["pending", "active", "expired"] = Field(
        description="at the engine's current time")
