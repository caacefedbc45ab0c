from __future__ import annotations

from healops.config.load import default_config
from healops.config.reload import ReloadRefused, apply_reload, plan_reload


def test_restart_only_paths_are_named() -> None:
    old = default_config()
    new = old.model_copy(update={
        "detection": old.detection.model_copy(update={"warmup_s": 1.0}),
        "policy": old.policy.model_copy(update={"mode": "manual"})})
    plan = plan_reload(old, new)
    assert plan.changed == ["detection.warmup_s", "policy.mode"]
    assert plan.needs_restart == ["detection.warmup_s"]
    assert "detection.warmup_s" in str(ReloadRefused(plan.needs_restart))


def test_apply_keeps_the_running_config_outside_the_reloadable_sections() -> None:
    running = default_config().model_copy(update={"store_url": "sqlite:///x.db"})
    new = default_config().model_copy(update={"runbooks": []})
    merged = apply_reload(running, new)
    assert merged.store_url == "sqlite:///x.db" and merged.runbooks == []
