"""Metric-based root-cause ranking over service dependencies.

``rank_root_causes(before, after, topology)`` ranks services by anomaly strength, onset,
propagation through the call graph (``explaining_callees``, the rule the engine's
diagnoser shares) and traffic, each cause with checkable evidence (``MetricEvidence``,
``PathEvidence``, ``ChangeEvidence``); ``rank_changes`` orders recent changes by distance
to the symptoms in the graph, then in time; ``split_causes`` separates unrelated failures,
``is_ambiguous`` flags close calls, and ``to_diagnosis`` turns a ranking into the domain's
:class:`~healops.domain.diagnosis.Diagnosis`. ``baro_rank`` is the baseline.
"""

from healops.diagnose.rca.baro import baro_rank
from healops.diagnose.rca.changes import RankedChange, rank_changes
from healops.diagnose.rca.clusters import CauseCluster, is_ambiguous, split_causes
from healops.diagnose.rca.evidence import (
    CauseEvidence,
    ChangeEvidence,
    MetricEvidence,
    PathEvidence,
)
from healops.diagnose.rca.frame import MetricFrame, MetricKey
from healops.diagnose.rca.hypotheses import to_diagnosis, to_hypotheses, to_hypothesis
from healops.diagnose.rca.infer import infer_topology
from healops.diagnose.rca.kinds import FaultKind, call_metric, metric_kind, metric_role
from healops.diagnose.rca.propagation import explaining_callees
from healops.diagnose.rca.rank import RankedCause, RankSettings, rank_root_causes
from healops.diagnose.rca.score import ScoreSettings, SeriesScore, score_frames
from healops.diagnose.rca.simulate import SimulatedCase, simulate_case

__all__ = [
    "CauseCluster",
    "CauseEvidence",
    "ChangeEvidence",
    "FaultKind",
    "MetricEvidence",
    "MetricFrame",
    "MetricKey",
    "PathEvidence",
    "RankSettings",
    "RankedCause",
    "RankedChange",
    "ScoreSettings",
    "SeriesScore",
    "SimulatedCase",
    "baro_rank",
    "call_metric",
    "explaining_callees",
    "infer_topology",
    "is_ambiguous",
    "metric_kind",
    "metric_role",
    "rank_changes",
    "rank_root_causes",
    "score_frames",
    "simulate_case",
    "split_causes",
    "to_diagnosis",
    "to_hypotheses",
    "to_hypothesis",
]
