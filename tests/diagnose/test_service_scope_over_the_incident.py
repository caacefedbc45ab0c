"""A service-wide fault need not show on every instance at the same instant: a crash loop
after a deploy takes the instances down in turns. The instances its symptoms were seen on
earlier in the incident count towards the pattern's ``scope: service``."""

from __future__ import annotations

from healops.config.load import default_config
from healops.diagnose import SymptomDiagnoser, World
from healops.domain.incidents import Incident
from healops.domain.signals import Anomaly, ChangeEvent, SeriesKey
from healops.domain.topology import Service, Topology

_INSTANCES = frozenset({"auth-1", "auth-2", "auth-3"})


def _anomaly(kind: str, instance: str, started_at: float) -> Anomaly:
    key = SeriesKey.of(f"{kind}_metric", service="auth", instance=instance)
    return Anomaly(key, kind, 1.0, 1.0, 0.0, started_at, started_at)


def _causes(*, live: list[Anomaly], cleared: list[Anomaly]) -> list[str]:
    incident = Incident.open("inc", key="k", service="auth", now=0.0)
    for a in [*live, *cleared]:
        incident.anomalies[a.id] = a
    incident.live.update(a.id for a in live)
    config = default_config()
    world = World(Topology.build([Service("auth", replicas=3)]),
                  (ChangeEvent(0.0, "auth", "deploy", "v2", "v1", "ci"),),
                  {"auth": _INSTANCES}, config.runbooks)
    diagnosis = SymptomDiagnoser(config.diagnosis)(incident, world, 40.0)
    return [f"{c.fault}:{c.runbook}" for c in diagnosis.causes]


def test_a_crash_loop_seen_on_one_instance_now_and_another_before_is_a_crash_loop() -> None:
    now_on_2 = [_anomaly("down", "auth-2", 0.0), _anomaly("restarts", "auth-2", 10.0),
                _anomaly("errors", "auth-2", 10.0)]
    earlier_on_3 = [_anomaly("down", "auth-3", 0.0)]
    assert _causes(live=now_on_2, cleared=earlier_on_3) == ["crashloop:rollback-crashloop"]


def test_one_instance_alone_is_still_not_a_service_wide_fault() -> None:
    now_on_2 = [_anomaly("down", "auth-2", 0.0), _anomaly("restarts", "auth-2", 10.0),
                _anomaly("errors", "auth-2", 10.0)]
    assert _causes(live=now_on_2, cleared=[]) == ["unknown:"]
