"""Policy: decide whether a planned step runs on its own, waits for approval, or goes to a human."""

from healops.policy.base import Policy, PolicyContext
from healops.policy.rules import RulePolicy

__all__ = ["Policy", "PolicyContext", "RulePolicy"]
