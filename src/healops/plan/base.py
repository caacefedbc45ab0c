"""The plan port."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from healops.config.models import RunbookConfig
from healops.domain.diagnosis import Diagnosis
from healops.domain.plans import Plan

__all__ = ["Planner"]


class Planner(Protocol):
    def __call__(self, diagnosis: Diagnosis, runbooks: Sequence[RunbookConfig]) -> list[Plan]: ...
