"""What diagnosis produces: ranked root-cause hypotheses with checkable evidence."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Diagnosis", "Evidence", "Hypothesis"]


@dataclass(frozen=True, slots=True)
class Evidence:
    """One fact a person can check: a series and its values, a change, a path."""

    kind: str  # "metric" | "change" | "path" | "runbook" | "history"
    summary: str
    series: str = ""
    before: float | None = None
    after: float | None = None
    ts: float | None = None


@dataclass(frozen=True, slots=True)
class Hypothesis:
    """"``component`` has fault ``fault``", with a confidence in [0, 1]."""

    component: str  # a service name
    fault: str  # e.g. "bad_deploy", "disk_filling", "unknown"
    confidence: float
    target: str = ""  # the instance, host or service an action should touch
    evidence: tuple[Evidence, ...] = ()
    runbook: str = ""  # matched runbook name, empty when none matches
    explains: tuple[str, ...] = ()  # series ids this cause accounts for
    security: bool = False


@dataclass(frozen=True, slots=True)
class Diagnosis:
    incident_id: str
    hypotheses: tuple[Hypothesis, ...]
    causes: tuple[Hypothesis, ...] = ()  # independent causes to act on (one per fault)
    ambiguous: bool = False
    reason: str = ""
    similar: tuple[str, ...] = field(default=())

    @property
    def top(self) -> Hypothesis | None:
        return self.hypotheses[0] if self.hypotheses else None
