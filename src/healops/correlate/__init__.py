"""Correlate: anomalies into incidents, with dedup, grouping, flap suppression and silences."""

from healops.correlate.base import Muter
from healops.correlate.grouping import Correlator, CorrelationResult

__all__ = ["CorrelationResult", "Correlator", "Muter"]
