"""Scenarios are data: a YAML file names the fault mix, the clock and the human model.

A malformed file is rejected with the file, the field and the fix.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from healops.config.load import ConfigError, format_validation_error, read_yaml
from healops.lab.faults import FAULTS

__all__ = ["HumanModel", "MixEntry", "Scenario", "load_scenario"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HumanModel(_Model):
    """How the on-call human behaves. These are model assumptions, not measurements:
    the response mean is the article's 23 minutes to find and apply a known fix."""

    response_mean_s: float = Field(1380.0, gt=0)
    response_sigma: float = Field(0.5, ge=0, description="lognormal shape of response times")
    approval_mean_s: float = Field(300.0, gt=0, description="time to read a page and approve")


class MixEntry(_Model):
    fault: str | None = None
    pair: list[str] | None = Field(None, description="two faults at once, on unrelated services")
    weight: float = Field(1.0, gt=0)
    services: list[str] = Field([], description="limit targets to these services")

    @model_validator(mode="after")
    def _one_kind(self) -> MixEntry:
        if (self.fault is None) == (self.pair is None):
            raise ValueError("give exactly one of 'fault' or 'pair'")
        names = [self.fault] if self.fault else list(self.pair or [])
        if self.pair is not None and len(self.pair) != 2:
            raise ValueError("'pair' needs exactly two fault names")
        for n in names:
            if n not in FAULTS:
                raise ValueError(f"unknown fault {n!r}; use one of: {', '.join(sorted(FAULTS))}")
        return self


class Scenario(_Model):
    name: str
    description: str = ""
    tick_s: float = Field(10.0, gt=0, le=60)
    warmup_s: float = Field(1200.0, ge=0)
    gap_s: float = Field(120.0, ge=0)
    max_episode_s: float = Field(4 * 3600.0, gt=0)
    quiet_s: float = Field(
        3600.0, ge=0,
        description="quiet time after each incident's gap, so incidents arrive hours apart "
        "as in a real estate rather than minutes apart; simulated at quiet_tick_s while "
        "nothing is firing",
    )
    quiet_tick_s: float = Field(300.0, gt=0, le=900)
    incidents: int = Field(50, ge=1)
    human: HumanModel = HumanModel()
    mix: list[MixEntry] = Field(min_length=1)


def load_scenario(name_or_path: str) -> Scenario:
    path = Path(name_or_path)
    if path.suffix in {".yaml", ".yml"} or path.exists():
        data = read_yaml(path)
        source = str(path)
    else:
        builtin = resources.files("healops.lab") / "scenarios" / f"{name_or_path}.yaml"
        if not builtin.is_file():
            known = sorted(p.name.removesuffix(".yaml")
                           for p in (resources.files("healops.lab") / "scenarios").iterdir()
                           if p.name.endswith(".yaml"))
            raise ConfigError(f"no scenario {name_or_path!r}: give a YAML file or one of "
                              f"{', '.join(known)}")
        data = yaml.safe_load(builtin.read_text())
        source = f"healops/lab/scenarios/{name_or_path}.yaml"
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: a scenario must be a mapping with 'name' and 'mix'")
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(source, exc)) from exc
