from __future__ import annotations

import json
from pathlib import Path

import pytest

from healops.config.load import ConfigError, config_json_schema, default_config, load_config


def test_defaults_are_valid_and_complete() -> None:
    cfg = default_config()
    faults = {p.name for p in cfg.diagnosis.faults}
    assert {r.fault for r in cfg.runbooks} <= faults
    assert "properties" in json.loads(config_json_schema())


def test_errors_name_the_file_the_path_and_the_fix(tmp_path: Path) -> None:
    p = tmp_path / "healops.yaml"
    p.write_text("topology:\n  services:\n    - {name: api, depends_on: [db]}\npolicy:\n"
                 "  min_confidense: 0.5\n")
    with pytest.raises(ConfigError) as err:
        load_config(p)
    msg = str(err.value)
    assert str(p) in msg and "policy.min_confidense" in msg and "unknown field" in msg
    assert "'db', which is not declared" in msg


def test_invalid_yaml_reports_the_line(tmp_path: Path) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text("policy:\n  mode: [auto\n")
    with pytest.raises(ConfigError, match="line"):
        load_config(p)
