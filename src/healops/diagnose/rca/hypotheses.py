"""Ranked causes as the domain's :class:`~healops.domain.diagnosis.Hypothesis` objects.

>>> from healops.diagnose.rca.clusters import _cause
>>> hyps = to_hypotheses([_cause("db", 2.0), _cause("web", 1.0)], limit=1)
>>> [(h.component, h.fault, h.confidence) for h in hyps]
[('db', 'cpu', 0.0)]
>>> d = to_diagnosis("inc-1", [_cause("db", 2.0), _cause("web", 1.95)], None)
>>> d.top is not None and d.top.component, d.ambiguous, [c.component for c in d.causes]
('db', True, ['db', 'web'])
"""

from __future__ import annotations

from collections.abc import Sequence

from healops.diagnose.rca.clusters import is_ambiguous, split_causes
from healops.diagnose.rca.rank import RankedCause
from healops.domain.diagnosis import Diagnosis, Hypothesis
from healops.domain.topology import Topology

__all__ = ["to_diagnosis", "to_hypothesis", "to_hypotheses"]


def to_hypothesis(cause: RankedCause) -> Hypothesis:
    return Hypothesis(
        component=cause.service,
        fault=cause.fault,
        confidence=min(1.0, max(0.0, cause.confidence)),
        target=cause.service,
        evidence=cause.evidence,
        explains=tuple(f"{svc}" for svc in cause.explains),
    )


def to_hypotheses(causes: Sequence[RankedCause], *, limit: int = 5) -> tuple[Hypothesis, ...]:
    """The first ``limit`` causes, best first."""
    return tuple(to_hypothesis(c) for c in causes[:limit])


def to_diagnosis(
    incident_id: str,
    causes: Sequence[RankedCause],
    topology: Topology | None,
    *,
    limit: int = 5,
    margin: float = 0.1,
) -> Diagnosis:
    """Hypotheses, independent causes (one per cluster) and the ambiguity flag."""
    clusters = split_causes(causes, topology)
    ambiguous = is_ambiguous(causes, margin=margin)
    reason = ""
    if ambiguous:
        reason = (f"{causes[0].service} and {causes[1].service} score within "
                  f"{margin:.0%} of each other")
    return Diagnosis(
        incident_id=incident_id,
        hypotheses=to_hypotheses(causes, limit=limit),
        causes=tuple(to_hypothesis(c.root) for c in clusters),
        ambiguous=ambiguous,
        reason=reason,
    )
