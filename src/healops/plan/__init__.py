"""Plan: turn a diagnosis' causes into ordered runbook steps with their verification and undo."""

from healops.plan.base import Planner
from healops.plan.runbooks import RunbookPlanner

__all__ = ["Planner", "RunbookPlanner"]
