"""Inhibition rules over a topology: which symptoms a live source inhibits, and which it
lets through (other kinds, callees, callers too far away, other services)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from healops.config.load import default_config
from healops.config.models import InhibitRuleConfig
from healops.correlate.inhibit import Inhibitor, InhibitRule
from healops.correlate.silences import parse_matcher
from healops.domain.signals import Anomaly, SeriesKey
from healops.domain.topology import Service, Topology

# edge -> api -> orders -> db <- payments; cache stands alone.
TOPO = Topology.build([
    Service("edge", depends_on=("api",)), Service("api", depends_on=("orders",)),
    Service("orders", depends_on=("db", "payments")), Service("payments", depends_on=("db",)),
    Service("db"), Service("cache")])
DOWN_INHIBITS_CALLERS = InhibitRule(frozenset({"down"}), frozenset({"errors", "latency"}))


def anomaly(service: str, kind: str, instance: str = "") -> Anomaly:
    labels = {"service": service, **({"instance": instance} if instance else {})}
    return Anomaly(SeriesKey.of("m", **labels), kind, 1.0, 1.0, 0.0, 0.0, 0.0)


def inhibited(inh: Inhibitor, target: Anomaly, *live: Anomaly) -> bool:
    return inh.inhibitor_of(target, inh.sources(live)) is not None


def test_a_down_service_inhibits_its_callers_within_max_hops() -> None:
    inh = Inhibitor([DOWN_INHIBITS_CALLERS], TOPO)
    down = anomaly("db", "down")
    assert inhibited(inh, anomaly("orders", "errors"), down)  # 1 call
    assert inhibited(inh, anomaly("payments", "latency"), down)  # 1 call
    assert inhibited(inh, anomaly("api", "errors"), down)  # 2 calls
    assert not inhibited(inh, anomaly("edge", "errors"), down)  # 3 calls: too far
    assert not inhibited(inh, anomaly("cache", "errors"), down)  # does not call db
    assert inh.inhibitor_of(anomaly("orders", "errors"), inh.sources([down])) == down


def test_what_a_down_service_lets_through() -> None:
    inh = Inhibitor([DOWN_INHIBITS_CALLERS], TOPO)
    down = anomaly("orders", "down")
    assert not inhibited(inh, anomaly("orders", "errors"), down)  # its own: not a caller
    assert not inhibited(inh, anomaly("db", "errors"), down)  # a callee, not a caller
    assert not inhibited(inh, anomaly("api", "disk_filling"), down)  # not a target kind
    assert not inhibited(inh, anomaly("api", "errors"))  # no live source
    assert not inhibited(inh, anomaly("api", "errors"), anomaly("orders", "latency"))


def test_same_service_scope_inhibits_the_service_itself_only() -> None:
    rule = InhibitRule(frozenset({"down"}), frozenset({"errors", "down"}), "same_service")
    inh = Inhibitor([rule], TOPO)
    down = anomaly("db", "down", "db-1")
    assert inhibited(inh, anomaly("db", "errors"), down)
    assert inhibited(inh, anomaly("db", "down", "db-2"), down)  # another instance's down
    assert not inhibited(inh, down, down)  # a source never inhibits itself
    assert not inhibited(inh, anomaly("orders", "errors"), down)


def test_matchers_narrow_the_sources_and_the_targets() -> None:
    rule = InhibitRule(frozenset({"down"}), frozenset({"errors"}), max_hops=3,
                       source_matchers=(parse_matcher('instance=~"db-.*"'),),
                       target_matchers=(parse_matcher('service!="api"'),))
    inh = Inhibitor([rule], TOPO)
    assert inhibited(inh, anomaly("orders", "errors"), anomaly("db", "down", "db-1"))
    assert not inhibited(inh, anomaly("orders", "errors"), anomaly("db", "down", "other"))
    assert not inhibited(inh, anomaly("api", "errors"), anomaly("db", "down", "db-1"))


def test_no_rules_inhibit_nothing() -> None:
    inh = Inhibitor([], TOPO)
    assert inh.sources([anomaly("db", "down")]) == ()
    assert not inhibited(inh, anomaly("orders", "errors"), anomaly("db", "down"))


def test_the_default_rule_and_the_config_models() -> None:
    (rule,) = default_config().correlation.inhibit
    assert InhibitRule.from_config(rule) == DOWN_INHIBITS_CALLERS
    assert InhibitRuleConfig(source_kinds=["down"], target_kinds=["errors"]).max_hops == 2
    with pytest.raises(ValidationError, match="regex does not compile"):
        InhibitRuleConfig(source_kinds=["down"], target_kinds=["errors"],
                          target_matchers=['service=~"("'])
    with pytest.raises(ValidationError, match="scope"):
        InhibitRuleConfig.model_validate({"source_kinds": ["down"], "target_kinds": ["x"],
                                          "scope": "callees"})
