from __future__ import annotations

import pytest

from healops.config.load import default_config
from healops.config.models import RunbookConfig, RunbookStep
from healops.domain.diagnosis import Diagnosis, Hypothesis
from healops.plan.runbooks import RunbookPlanner


def test_params_render_in_a_sandbox_from_validated_names_only() -> None:
    rb = RunbookConfig(name="rb", fault="f", steps=[RunbookStep(
        action="http_call", params={"path": "/svc/{{ service }}/restart"})])
    d = Diagnosis("I", (), (Hypothesis("api", "f", 0.9, "api", runbook="rb"),))
    step = RunbookPlanner()(d, [rb])[0].steps[0]
    assert step.params["path"] == "/svc/api/restart"


@pytest.mark.parametrize("hostile", ["api; rm -rf /", "{{ 7*7 }}", "../../etc/passwd",
                                     "x" * 500, "$(id)"])
def test_hostile_names_never_reach_a_template_or_a_target(hostile: str) -> None:
    d = Diagnosis("I", (), (Hypothesis(hostile, "bad_deploy", 0.9, hostile,
                                       runbook="rollback-bad-deploy"),))
    with pytest.raises(ValueError, match="unsafe name"):
        RunbookPlanner()(d, default_config().runbooks)
