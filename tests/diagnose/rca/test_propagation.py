"""The propagation rule, and the engine's diagnoser and the metric ranking sharing it."""

from __future__ import annotations

from healops.config.models import DiagnosisConfig, FaultPattern
from healops.diagnose import SymptomDiagnoser, World
from healops.diagnose.rca import explaining_callees
from healops.domain.incidents import Incident
from healops.domain.signals import Anomaly, SeriesKey
from healops.domain.topology import Service, Topology


def chain() -> Topology:
    return Topology.build([
        Service("web", depends_on=("api",)),
        Service("api", depends_on=("db",)),
        Service("db"),
    ])


def test_a_dependency_explains_a_symptom_only_if_it_started_no_later() -> None:
    topo = chain()
    assert explaining_callees("web", 10.0, {"api": 10.0, "db": 4.0}, topo) == ["api", "db"]
    assert explaining_callees("web", 10.0, {"db": 11.0}, topo) == []
    assert explaining_callees("web", 10.0, {"db": 11.0}, topo, slack=1.0) == ["db"]
    # callers never explain their callees
    assert explaining_callees("db", 10.0, {"web": 0.0, "api": 0.0}, topo) == []
    assert explaining_callees("unknown", 10.0, {"db": 0.0}, topo) == []


def test_a_direct_callee_whose_calls_stayed_healthy_explains_nothing() -> None:
    topo = chain()
    healthy_edge = {("web", "api")}
    found = explaining_callees("web", 5.0, {"api": 1.0, "db": 1.0}, topo,
                               degraded=lambda caller, callee: (caller, callee)
                               not in healthy_edge)
    assert found == ["db"]  # only indirect dependencies remain


def anomaly(service: str, kind: str, started_at: float) -> Anomaly:
    key = SeriesKey.of(f"{kind}_metric", service=service, instance=f"{service}-0")
    return Anomaly(key, kind, 0.9, 2.0, 1.0, started_at, started_at)


def diagnose(*anomalies: Anomaly) -> list[str]:
    config = DiagnosisConfig(faults=[
        FaultPattern(name="slow", any_of=["latency"]),
        FaultPattern(name="hot", any_of=["saturation"]),
    ])
    incident = Incident.open("inc", key="k", service="web", now=0.0)
    for a in anomalies:
        incident.anomalies[a.id] = a
        incident.live.add(a.id)
    diagnosis = SymptomDiagnoser(config)(incident, World(chain()), 100.0)
    return [h.component for h in diagnosis.causes]


def test_the_engine_diagnoser_applies_the_same_rule() -> None:
    # db's latency began first: it explains api's and web's, so db is the one cause
    assert diagnose(anomaly("web", "latency", 20.0), anomaly("api", "latency", 12.0),
                    anomaly("db", "latency", 10.0)) == ["db"]
    # a callee whose symptom began well after the caller's explains nothing
    causes = diagnose(anomaly("web", "latency", 10.0), anomaly("db", "latency", 60.0))
    assert sorted(causes) == ["db", "web"]
