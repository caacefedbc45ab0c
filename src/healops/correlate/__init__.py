"""Correlate: anomalies into incidents, with dedup, grouping, flap suppression, silences,
inhibition and maintenance windows (``docs/correlate.md``)."""

from healops.correlate.base import Muter
from healops.correlate.grouping import CorrelationResult, Correlator
from healops.correlate.inhibit import Inhibitor, InhibitRule
from healops.correlate.maintenance import MaintenanceMuter, MaintenanceWindow
from healops.correlate.silences import Matcher, Silence, SilenceMuter, parse_matcher

__all__ = [
    "CorrelationResult",
    "Correlator",
    "InhibitRule",
    "Inhibitor",
    "MaintenanceMuter",
    "MaintenanceWindow",
    "Matcher",
    "Muter",
    "Silence",
    "SilenceMuter",
    "parse_matcher",
]
