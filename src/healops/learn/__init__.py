"""Learn: outcome statistics per (signature, action), which feed confidence and autonomy."""

from healops.learn.stats import OutcomeStats

__all__ = ["OutcomeStats"]
