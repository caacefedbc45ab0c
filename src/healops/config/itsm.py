"""Configuration of the ITSM side: priorities, SLA targets, problem detection, on-call
schedules and escalation policies, and the notification channels pages go out on.

Everything has a default that an SRE would accept on day one, so an empty ``itsm:``
section (or none) is valid.

>>> cfg = ItsmConfig()
>>> cfg.sla.targets["P1"].resolution_s, cfg.problems.occurrences
(14400.0, 3)
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

__all__ = [
    "ChangeConfig",
    "Contact",
    "EmailChannel",
    "EscalationPolicy",
    "EscalationTier",
    "ItsmConfig",
    "NotificationChannel",
    "NotificationConfig",
    "OnCallConfig",
    "OnCallSchedule",
    "PagerDutyChannel",
    "PriorityConfig",
    "ProblemRule",
    "SlaConfig",
    "SlaTarget",
    "SlackChannel",
    "WebhookChannel",
]

Priority = Literal["P1", "P2", "P3", "P4", "P5"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PriorityConfig(_Model):
    """Priority = impact + urgency - 1 (the ITIL 3 x 3 matrix), each from 1 (high) to 3."""

    tier_impact: dict[int, int] = Field(
        {1: 1, 2: 2, 3: 3, 4: 3}, description="impact (1 high .. 3 low) of a service tier"
    )
    wide_services: int = Field(
        3, ge=2, description="this many affected services raise the impact by one level"
    )
    urgency: dict[str, int] = Field(
        {"down": 1, "errors": 1, "auth_failures": 1, "slo_burn": 1, "latency": 2,
         "saturation": 2, "restarts": 2, "disk_filling": 2, "memory_growth": 2,
         "cert_expiring": 2, "backlog": 2, "traffic": 3, "anomaly": 3},
        description="urgency (1 high .. 3 low) of a symptom kind; unknown kinds are 3",
    )
    budget_exhausted_kinds: list[str] = Field(
        ["slo_burn"], description="symptom kinds that mean the error budget is burning: urgency 1"
    )
    services: dict[str, int] = Field(
        {}, description="impact override per service (customer-facing beyond its tier)"
    )


class SlaTarget(_Model):
    response_s: float = Field(gt=0, description="time to first response (automation or human)")
    resolution_s: float = Field(gt=0, description="time to resolution")


class SlaConfig(_Model):
    targets: dict[Priority, SlaTarget] = {
        "P1": SlaTarget(response_s=900, resolution_s=4 * 3600),
        "P2": SlaTarget(response_s=1800, resolution_s=8 * 3600),
        "P3": SlaTarget(response_s=4 * 3600, resolution_s=24 * 3600),
        "P4": SlaTarget(response_s=8 * 3600, resolution_s=72 * 3600),
        "P5": SlaTarget(response_s=24 * 3600, resolution_s=240 * 3600),
    }
    close_after_s: float = Field(
        86_400.0, ge=0, description="a resolved incident record closes after this long"
    )

    @model_validator(mode="after")
    def _every_priority(self) -> SlaConfig:
        missing = sorted({"P1", "P2", "P3", "P4", "P5"} - set(self.targets))
        if missing:
            raise ValueError(f"sla.targets lacks {missing}; give every priority a target")
        return self


class ProblemRule(_Model):
    occurrences: int = Field(3, ge=2, description="the same signature this many times ...")
    window_s: float = Field(7 * 86_400.0, gt=0, description="... within this window")


class ChangeConfig(_Model):
    standard_min_successes: int = Field(
        0, ge=0,
        description="verified successes a runbook action needs before an automatic run of it "
        "is a standard (pre-approved) change; before that it is recorded as a normal change "
        "approved by policy",
    )


class OnCallSchedule(_Model):
    """A rotation: ``rotation[k]`` is on call during shift k after ``start``."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,62}$")
    rotation: list[str] = Field(min_length=1)
    shift_s: float = Field(7 * 86_400.0, gt=0)
    start: float = Field(0.0, description="Unix seconds when shift 0 began")


class EscalationTier(_Model):
    notify: list[str] = Field(min_length=1, description="schedule names or people")
    channels: list[str] = Field([], description="channel names; empty means every channel")
    ack_timeout_s: float = Field(900.0, gt=0, description="escalate when unacknowledged")


class EscalationPolicy(_Model):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,62}$")
    services: list[str] = Field([], description="services it covers; empty with team=''")
    team: str = Field("", description="or: every service whose owner is this team")
    tiers: list[EscalationTier] = Field(min_length=1)
    repeat: int = Field(0, ge=0, description="times to start again after the last tier")


class Contact(_Model):
    email: str = ""
    slack: str = ""


class OnCallConfig(_Model):
    schedules: list[OnCallSchedule] = []
    policies: list[EscalationPolicy] = []
    default_policy: str = Field("", description="the policy for services no policy covers")
    contacts: dict[str, Contact] = {}

    @model_validator(mode="after")
    def _references(self) -> OnCallConfig:
        scheds = {s.name for s in self.schedules}
        pols = {p.name for p in self.policies}
        if len(scheds) != len(self.schedules) or len(pols) != len(self.policies):
            raise ValueError("schedule and policy names must be unique")
        if self.default_policy and self.default_policy not in pols:
            raise ValueError(f"default_policy {self.default_policy!r} is not a declared policy")
        return self


class WebhookChannel(_Model):
    type: Literal["webhook"] = "webhook"
    name: str
    url: str
    secret: SecretStr = Field(description="HMAC-SHA256 key; the receiver verifies with it")


class SlackChannel(_Model):
    type: Literal["slack"] = "slack"
    name: str
    url: SecretStr = Field(description="incoming-webhook URL (it is the credential)")


class EmailChannel(_Model):
    type: Literal["email"] = "email"
    name: str
    host: str = "localhost"
    port: int = Field(25, ge=1, le=65535)
    sender: str = "healops@localhost"
    to: list[str] = Field([], description="always send here, besides the people paged")
    starttls: bool = False
    username: str = ""
    password: SecretStr = SecretStr("")
    timeout_s: float = Field(10.0, gt=0)


class PagerDutyChannel(_Model):
    type: Literal["pagerduty"] = "pagerduty"
    name: str
    url: str = "https://events.pagerduty.com/v2/enqueue"
    routing_key: SecretStr


NotificationChannel = Annotated[
    WebhookChannel | SlackChannel | EmailChannel | PagerDutyChannel, Field(discriminator="type")
]


class NotificationConfig(_Model):
    channels: list[NotificationChannel] = []
    dedup_window_s: float = Field(3600.0, ge=0, description="one page per dedup key in this")
    rate_count: int = Field(20, ge=1, description="at most this many pages ...")
    rate_window_s: float = Field(3600.0, gt=0, description="... per channel in this window")
    console_url: str = Field("", description="base URL of the console, for links in pages")
    breach_channels: list[str] = Field(
        [], description="channels told when an SLA is breached; empty means none"
    )
    timeout_s: float = Field(10.0, gt=0)

    @model_validator(mode="after")
    def _unique(self) -> NotificationConfig:
        names = [c.name for c in self.channels]
        if len(set(names)) != len(names):
            raise ValueError("notification channel names must be unique")
        return self


class ItsmConfig(_Model):
    priority: PriorityConfig = PriorityConfig()
    sla: SlaConfig = SlaConfig()
    problems: ProblemRule = ProblemRule()
    changes: ChangeConfig = ChangeConfig()
    oncall: OnCallConfig = OnCallConfig()
    notifications: NotificationConfig = NotificationConfig()
    default_group: str = Field("operations", description="assignment group when none is known")
    assignment_groups: dict[str, str] = Field({}, description="service -> assignment group")
