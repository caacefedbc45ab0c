"""Loading a config file, with errors that name the file, the path inside it and the fix."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from healops.config.models import HealopsConfig

__all__ = ["ConfigError", "config_json_schema", "default_config", "load_config", "parse_config"]


class ConfigError(ValueError):
    """A configuration (or scenario) file is unusable; the message says where and why."""


def format_validation_error(source: str, exc: ValidationError) -> str:
    lines = [f"{source}: {exc.error_count()} problem(s)"]
    for err in exc.errors():
        path = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown field; remove it or check its spelling against `healops schema`"
        elif err["type"] == "missing":
            msg = "required field is missing; add it"
        lines.append(f"  - {path}: {msg}")
    return "\n".join(lines)


def read_yaml(path: Path) -> Any:
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it ({exc.strerror})") from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{path}: not valid YAML{where}; fix the syntax there") from exc


def parse_config(data: Any, *, source: str = "<config>") -> HealopsConfig:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the top level must be a mapping of sections")
    try:
        return HealopsConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(source, exc)) from exc


def load_config(path: Path) -> HealopsConfig:
    return parse_config(read_yaml(path), source=str(path))


def default_config() -> HealopsConfig:
    """The built-in detection rules, fault patterns, runbooks and policy."""
    text = resources.files("healops.config").joinpath("defaults.yaml").read_text()
    return parse_config(yaml.safe_load(text), source="healops/config/defaults.yaml")


def config_json_schema() -> str:
    return json.dumps(HealopsConfig.model_json_schema(), indent=2, sort_keys=True)
