"""The symptom diagnosis merged with the metric ranking (docs/adr/0008)."""

from __future__ import annotations

import numpy as np

from healops.config.models import DiagnosisConfig
from healops.diagnose.base import World
from healops.diagnose.history import SeriesHistory
from healops.diagnose.ranked import RankedDiagnoser
from healops.domain.diagnosis import Diagnosis, Evidence, Hypothesis
from healops.domain.incidents import Incident
from healops.domain.signals import Anomaly, MetricBatch, SeriesKey
from healops.domain.topology import Service, Topology

TOPO = Topology.build([Service("web", depends_on=("db",)), Service("db")])
FAULT_AT = 1000.0


def _history(web_errors: float, db_errors: float) -> SeriesHistory:
    """Web calls db; from FAULT_AT both error ratios rise to the given levels."""
    rng = np.random.default_rng(0)
    keys = (SeriesKey.of("error_ratio", service="web", instance="web-1"),
            SeriesKey.of("error_ratio", service="db", instance="db-1"),
            SeriesKey.of("cpu", service="db", instance="db-1"))
    h = SeriesHistory(capacity=200)
    for i in range(130):
        ts = 400.0 + 10 * i
        fault = ts >= FAULT_AT
        noise = rng.normal(0, 0.002, 3)
        values = np.array([0.01 + (web_errors if fault else 0.0),
                           0.01 + (db_errors if fault else 0.0), 0.3]) + noise
        h.observe(MetricBatch(ts, keys, values))
    return h


def _incident(kind: str = "errors", instance: str = "web-1") -> Incident:
    inc = Incident.open("INC-1", key="k", service="web", now=FAULT_AT)
    a = Anomaly(SeriesKey.of("error_ratio", service="web", instance=instance), kind, 0.9,
                0.2, 0.01, FAULT_AT, FAULT_AT + 300)
    inc.anomalies[a.id] = a
    inc.live.add(a.id)
    return inc


def _inner(fault: str, target: str) -> object:
    def diagnose(incident: Incident, world: World, now: float) -> Diagnosis:
        ids = tuple(incident.live)
        h = Hypothesis("web", fault, 0.8, target, (Evidence("metric", "errors on web"),),
                       "a-runbook", ids)
        alt = Hypothesis("web", "unknown", 0.4, "web", (), "", ids)
        return Diagnosis(incident.id, (h, alt), (h,), reason="1 independent cause(s)")
    return diagnose


def _diagnose(inner: object, history: SeriesHistory, incident: Incident) -> Diagnosis:
    d = RankedDiagnoser(DiagnosisConfig(), inner=inner)  # type: ignore[arg-type]
    return d(incident, World(TOPO, history=history), FAULT_AT + 290)


def test_every_hypothesis_carries_the_rankings_evidence() -> None:
    inc = _incident()
    d = _diagnose(_inner("bad_deploy", "web"), _history(0.2, 0.0), inc)
    assert all(any(e.kind == "rank" for e in h.evidence) for h in d.hypotheses)
    top = d.hypotheses[0]
    assert top.fault == "bad_deploy" and top.runbook == "a-runbook"  # the inner top stays
    assert "web #1" in next(e.summary for e in top.evidence if e.kind == "rank")
    assert d.causes == (top,) and not d.ambiguous


def test_without_history_the_inner_diagnosis_is_returned_unchanged() -> None:
    inc = _incident()
    inner = _inner("bad_deploy", "web")
    d = RankedDiagnoser(DiagnosisConfig(), inner=inner)(  # type: ignore[arg-type]
        inc, World(TOPO), FAULT_AT + 290)
    assert d == inner(inc, World(TOPO), FAULT_AT + 290)  # type: ignore[operator]


def test_a_callee_ranked_far_above_a_propagating_cause_marks_it_ambiguous() -> None:
    inc = _incident()
    d = _diagnose(_inner("bad_deploy", "web"), _history(0.05, 0.5), inc)
    assert d.ambiguous
    assert "metric ranking puts db, which web calls, above it" in d.reason
    assert [c.component for c in d.causes] == ["web"]  # what is acted on does not change
    extra = [h for h in d.hypotheses if h.component == "db"]
    assert extra and extra[0].runbook == "" and extra[0].fault.startswith("ranked_")
    assert extra[0].confidence < min(h.confidence for h in d.hypotheses if h.component == "web")
    assert d.hypotheses[-1] is extra[0]  # after the symptom diagnosis' hypotheses


def test_an_instance_level_fault_is_not_overridden_by_the_service_ranking() -> None:
    inc = _incident()
    d = _diagnose(_inner("bad_replica", "web-1"), _history(0.05, 0.5), inc)
    assert not d.ambiguous and "metric ranking puts" not in d.reason
    assert any(h.component == "db" for h in d.hypotheses)  # still shown to a person


def test_a_local_symptom_is_not_compared_with_the_ranking() -> None:
    inc = _incident(kind="disk_filling")
    d = _diagnose(_inner("disk_filling", "web"), _history(0.05, 0.5), inc)
    assert not d.ambiguous


def test_a_callee_the_diagnosis_already_names_as_a_cause_is_no_disagreement() -> None:
    inc = _incident()

    def inner(incident: Incident, world: World, now: float) -> Diagnosis:
        web = Hypothesis("web", "bad_deploy", 0.8, "web", (), "rb", tuple(incident.live))
        db = Hypothesis("db", "slow", 0.7, "db", (), "rb2", ())
        return Diagnosis(incident.id, (web, db), (web, db))

    d = _diagnose(inner, _history(0.05, 0.5), inc)
    assert not d.ambiguous
