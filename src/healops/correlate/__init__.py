"""Correlate: anomalies into incidents, with dedup, grouping, flap suppression and silences."""

from healops.correlate.base import Muter
from healops.correlate.grouping import CorrelationResult, Correlator

__all__ = ["CorrelationResult", "Correlator", "Muter"]
