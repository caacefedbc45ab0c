from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from healops.config.itsm import ItsmConfig
from healops.config.models import HealopsConfig


def test_defaults_are_complete_and_valid() -> None:
    cfg = ItsmConfig()
    assert sorted(cfg.sla.targets) == ["P1", "P2", "P3", "P4", "P5"]
    targets = [cfg.sla.targets[p] for p in ("P1", "P2", "P3", "P4", "P5")]  # type: ignore[index]
    assert all(a.resolution_s < b.resolution_s for a, b in zip(targets, targets[1:], strict=False))
    assert cfg.problems.occurrences >= 2 and cfg.notifications.channels == []


@pytest.mark.parametrize("bad, words", [
    ({"sla": {"targets": {"P1": {"response_s": 1, "resolution_s": 2}}}}, "lacks"),
    ({"oncall": {"default_policy": "nope"}}, "not a declared policy"),
    ({"problems": {"occurences": 3}}, "Extra inputs"),
    ({"notifications": {"channels": [{"type": "fax", "name": "x"}]}}, "fax"),
    ({"notifications": {"channels": [{"type": "slack", "name": "a", "url": "u"},
                                     {"type": "slack", "name": "a", "url": "v"}]}}, "unique"),
])
def test_mistakes_are_refused(bad: dict[str, object], words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        ItsmConfig.model_validate(bad)


def test_secrets_stay_secret() -> None:
    cfg = ItsmConfig.model_validate({"notifications": {"channels": [
        {"type": "pagerduty", "name": "pd", "routing_key": "TOPSECRETKEY"}]}})
    assert "TOPSECRETKEY" not in repr(cfg) and "TOPSECRETKEY" not in cfg.model_dump_json()


@pytest.mark.skipif("itsm" not in HealopsConfig.model_fields,
                    reason="needs the one-field `itsm: ItsmConfig` edit to config/models.py")
def test_the_itsm_section_is_in_the_exported_schema() -> None:
    from healops.config.load import config_json_schema

    schema = json.loads(config_json_schema())
    assert "itsm" in schema["properties"]
    defs = schema["$defs"]
    assert {"ItsmConfig", "SlaConfig", "EscalationPolicy", "PagerDutyChannel"} <= set(defs)
    assert defs["ItsmConfig"]["additionalProperties"] is False
