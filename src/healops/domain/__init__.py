"""The typed vocabulary every loop stage speaks: signals, anomalies, incidents, diagnoses,
runbooks, plans, decisions, action runs, outcomes and topology."""

from healops.domain.actions import ActionResult, ActionRun, Outcome, OutcomeStatus
from healops.domain.diagnosis import Diagnosis, Evidence, Hypothesis
from healops.domain.incidents import Incident, IncidentState, TimelineEntry
from healops.domain.plans import Decision, Plan, PlannedStep, Verdict
from healops.domain.signals import (
    Alert,
    Anomaly,
    ChangeEvent,
    LogEvent,
    MetricBatch,
    Sample,
    SeriesKey,
    Signal,
)
from healops.domain.topology import Instance, Service, Topology

__all__ = [
    "ActionResult",
    "ActionRun",
    "Alert",
    "Anomaly",
    "ChangeEvent",
    "Decision",
    "Diagnosis",
    "Evidence",
    "Hypothesis",
    "Incident",
    "IncidentState",
    "Instance",
    "LogEvent",
    "MetricBatch",
    "Outcome",
    "OutcomeStatus",
    "Plan",
    "PlannedStep",
    "Sample",
    "SeriesKey",
    "Service",
    "Signal",
    "TimelineEntry",
    "Topology",
    "Verdict",
]
