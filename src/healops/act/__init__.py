"""Act: executors that change targets, only after policy has decided, always journalled."""

from healops.act.base import ActionError, Executor, StepRequest

__all__ = ["ActionError", "Executor", "StepRequest"]
