"""Plans from runbooks. Parameters may be Jinja2 templates rendered in a sandbox whose
context holds only validated names (service, instance, fault, incident) — never raw alert
labels or annotations, so alert contents cannot inject templates.

>>> from healops.domain.diagnosis import Diagnosis, Hypothesis
>>> from healops.config.load import default_config
>>> d = Diagnosis("INC-1", (), (Hypothesis("api", "bad_deploy", 0.9, "api",
...               runbook="rollback-bad-deploy"),))
>>> [s.action for s in RunbookPlanner()(d, default_config().runbooks)[0].steps]
['rollback']
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from jinja2.sandbox import ImmutableSandboxedEnvironment

from healops.config.models import RunbookConfig
from healops.domain.diagnosis import Diagnosis, Hypothesis
from healops.domain.plans import Plan, PlannedStep

__all__ = ["RunbookPlanner", "safe_name"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")


def safe_name(value: str) -> str:
    """Refuse anything but a plain identifier: no spaces, quotes, slashes or template marks."""
    if not _NAME.match(value):
        raise ValueError(f"refusing unsafe name {value[:40]!r}")
    return value


class RunbookPlanner:
    def __init__(self) -> None:
        self._env = ImmutableSandboxedEnvironment(autoescape=False)

    def _render(self, value: object, ctx: dict[str, str]) -> object:
        if isinstance(value, str) and ("{{" in value or "{%" in value):
            return self._env.from_string(value).render(**ctx)
        return value

    def plan_one(self, incident_id: str, h: Hypothesis, runbook: RunbookConfig,
                 *, ambiguous: bool) -> Plan:
        ctx = {"service": safe_name(h.component), "instance": safe_name(h.target or h.component),
               "fault": safe_name(h.fault), "incident": safe_name(incident_id)}
        steps = tuple(
            PlannedStep(
                action=s.action,
                target=ctx["instance"] if s.target == "instance" else ctx["service"],
                service=ctx["service"],
                params={k: self._render(v, ctx) for k, v in s.params.items()},
                risk=runbook.risk,
                timeout_s=s.timeout_s,
                undo=s.undo,
                verify_window_s=s.verify_window_s,
                verify_ignore_kinds=tuple(s.verify_ignore_kinds),
                on_failure=s.on_failure,
                then=s.then,
            )
            for s in runbook.steps
        )
        return Plan(incident_id, runbook.name, f"{h.fault}:{h.component}",
                    f"{h.fault} on {h.target or h.component}", h.confidence, steps,
                    ambiguous=ambiguous, security=h.security)

    def __call__(self, diagnosis: Diagnosis, runbooks: Sequence[RunbookConfig]) -> list[Plan]:
        by_name = {r.name: r for r in runbooks}
        plans = []
        for h in diagnosis.causes:
            rb = by_name.get(h.runbook)
            if rb is None:
                plans.append(Plan(diagnosis.incident_id, "", f"{h.fault}:{h.component}",
                                  f"{h.fault} on {h.target or h.component}", h.confidence, (),
                                  ambiguous=diagnosis.ambiguous, security=h.security))
            else:
                plans.append(self.plan_one(diagnosis.incident_id, h, rb,
                                           ambiguous=diagnosis.ambiguous))
        return plans
