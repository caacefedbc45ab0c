"""The correlator as a timeline: dedup, grouping, flapping, and the noise it keeps out
(muters, inhibition), each with what it suppresses and what it lets through."""

from __future__ import annotations

from collections.abc import Sequence

from healops.config.models import CorrelationConfig
from healops.correlate.grouping import CorrelationResult, Correlator
from healops.correlate.maintenance import MaintenanceMuter, MaintenanceWindow
from healops.correlate.silences import SilenceMuter
from healops.domain.signals import Anomaly, SeriesKey
from healops.domain.topology import Service, Topology

# edge -> api -> orders -> db; cache stands alone.
TOPO = Topology.build([
    Service("edge", depends_on=("api",)), Service("api", depends_on=("orders",)),
    Service("orders", depends_on=("db",)), Service("db"), Service("cache")])
T0 = 1_799_020_800.0


def anomaly(service: str, kind: str, t: float = T0) -> Anomaly:
    metric = {"down": "up", "errors": "error_ratio", "latency": "latency_p99_ms"}.get(kind, kind)
    return Anomaly(SeriesKey.of(metric, service=service, instance=f"{service}-1"), kind,
                   1.0, 1.0, 0.0, T0, t)


def correlator(**config: object) -> Correlator:
    return Correlator(CorrelationConfig.model_validate(config), TOPO)


def step(c: Correlator, t: float, fired: Sequence[Anomaly] = (),
         firing: Sequence[Anomaly] = (), cleared: Sequence[Anomaly] = ()) -> CorrelationResult:
    return c.observe(list(fired), list(firing), list(cleared), T0 + t)


def services_of(c: Correlator) -> list[list[str]]:
    return sorted(sorted(i.services) for i in c.active.values())


# ---- dedup, grouping, flapping -----------------------------------------------------------
def test_a_series_that_keeps_firing_refreshes_its_incident() -> None:
    c = correlator()
    a = anomaly("db", "latency")
    assert len(step(c, 0, fired=[a]).opened) == 1
    res = step(c, 10, firing=[a])
    assert res.opened == [] and len(c.active) == 1


def test_propagating_symptoms_group_by_topology_and_local_ones_do_not() -> None:
    c = correlator()
    step(c, 0, fired=[anomaly("db", "latency")])
    step(c, 10, fired=[anomaly("api", "latency")])  # two calls away: same incident
    step(c, 20, fired=[anomaly("orders", "disk_filling")])  # local: its own incident
    assert services_of(c) == [["api", "db"], ["orders"]]


def test_a_flapping_series_marks_its_incident_flapping() -> None:
    c = correlator(flap_transitions=4, flap_window_s=600)
    a = anomaly("cache", "latency")
    for t in range(0, 40, 10):
        if t % 20 == 0:
            step(c, t, fired=[a])
        else:
            step(c, t, cleared=[a])
    (inc,) = c.active.values()
    assert inc.flapping


# ---- muters ------------------------------------------------------------------------------
def test_a_silenced_anomaly_opens_no_incident_and_an_unsilenced_one_does() -> None:
    c = correlator()
    silences = SilenceMuter()
    silences.add(['service="cache"'], starts_at=T0, ends_at=T0 + 60, now=T0)
    c.muters.append(silences)
    res = step(c, 0, fired=[anomaly("cache", "latency"), anomaly("orders", "disk_filling")])
    assert res.muted == 1 and services_of(c) == [["orders"]]
    res = step(c, 60, firing=[anomaly("cache", "latency", T0 + 60)])  # the silence is over
    assert res.muted == 0 and services_of(c) == [["cache"], ["orders"]]


def test_a_maintenance_window_mutes_its_services_until_it_closes() -> None:
    c = correlator()
    c.muters.append(MaintenanceMuter([MaintenanceWindow.once(["db"], start=T0, end=T0 + 30)]))
    assert step(c, 0, fired=[anomaly("db", "latency")]).muted == 1
    assert step(c, 20, firing=[anomaly("db", "latency")]).muted == 1
    assert c.active == {}
    res = step(c, 30, firing=[anomaly("db", "latency")])
    assert res.muted == 0 and len(res.opened) == 1


# ---- inhibition --------------------------------------------------------------------------
def test_a_caller_of_a_down_service_joins_its_incident_as_evidence() -> None:
    c = correlator()
    step(c, 0, fired=[anomaly("db", "down")])
    res = step(c, 10, fired=[anomaly("orders", "errors"), anomaly("api", "latency")],
               firing=[anomaly("db", "down")])
    assert res.opened == [] and res.inhibited == 0  # grouping found it an incident
    assert services_of(c) == [["api", "db", "orders"]]


def test_an_inhibited_caller_opens_no_incident_of_its_own_until_the_source_clears() -> None:
    c = correlator(max_hops=0)  # grouping alone would give each service its own incident
    down, errors = anomaly("db", "down"), anomaly("orders", "errors")
    step(c, 0, fired=[down])
    res = step(c, 10, fired=[errors, anomaly("cache", "errors")], firing=[down])
    assert res.inhibited == 1  # orders calls db; cache does not and is let through
    assert services_of(c) == [["cache"], ["db"]]
    assert step(c, 20, firing=[down, errors]).inhibited == 1
    res = step(c, 30, firing=[errors], cleared=[down])  # db is back; orders still fails
    assert res.inhibited == 0 and [i.service for i in res.opened] == ["orders"]


def test_a_caller_three_calls_away_is_let_through() -> None:
    c = correlator(max_hops=0)
    step(c, 0, fired=[anomaly("db", "down")])
    res = step(c, 10, fired=[anomaly("edge", "errors"), anomaly("api", "errors")])
    assert res.inhibited == 1 and services_of(c) == [["db"], ["edge"]]


def test_a_source_in_the_same_tick_inhibits_even_when_it_comes_second() -> None:
    c = correlator()
    res = step(c, 0, fired=[anomaly("orders", "errors"), anomaly("db", "down")])
    assert res.inhibited == 1 and [i.key for i in res.opened] == ["db:down"]
    step(c, 10, firing=[anomaly("orders", "errors"), anomaly("db", "down")])
    assert services_of(c) == [["db", "orders"]]  # the next tick it joins as evidence


def test_a_silenced_source_still_inhibits_as_in_alertmanager() -> None:
    c = correlator()
    silences = SilenceMuter()
    silences.add(['service="db"'], starts_at=T0, ends_at=T0 + 3600, now=T0)
    c.muters.append(silences)
    res = step(c, 0, fired=[anomaly("db", "down"), anomaly("orders", "errors")])
    assert (res.muted, res.inhibited, c.active) == (1, 1, {})


def test_inhibition_is_off_with_no_rules() -> None:
    c = correlator(max_hops=0, inhibit=[])
    res = step(c, 0, fired=[anomaly("db", "down"), anomaly("orders", "errors")])
    assert res.inhibited == 0 and services_of(c) == [["db"], ["orders"]]
