"""What changed: changes ranked by distance to the symptoms, then by time."""

from __future__ import annotations

from healops.diagnose.rca.changes import hops_between, rank_changes
from healops.domain.signals import ChangeEvent
from healops.domain.topology import Service, Topology


def estate() -> Topology:
    return Topology.build([
        Service("web", depends_on=("cart", "search")),
        Service("cart", depends_on=("db",)),
        Service("search"),
        Service("db"),
        Service("batch"),
    ])


def test_distance_counts_calls_in_either_direction() -> None:
    topo = estate()
    assert hops_between(topo, "db", {"db"}) == (0, "db")
    assert hops_between(topo, "db", {"web"}) == (2, "web")
    assert hops_between(topo, "search", {"cart"}) == (2, "cart")  # via web
    assert hops_between(topo, "batch", {"web"}) == (-1, "")
    assert hops_between(None, "db", {"web"}) == (-1, "")


def test_nearest_first_then_most_recent_and_the_window_is_respected() -> None:
    topo = estate()
    changes = [
        ChangeEvent(900.0, "search", "deploy"),  # next to web
        ChangeEvent(700.0, "db", "config"),  # next to cart
        ChangeEvent(950.0, "cart", "scale"),  # on a symptomatic service, 50 s before
        ChangeEvent(800.0, "cart", "deploy"),  # on it too, earlier
        ChangeEvent(100.0, "cart", "deploy"),  # far too early
        ChangeEvent(1200.0, "db", "deploy"),  # after every symptom began
        ChangeEvent(990.0, "batch", "flag"),  # not linked to anything
    ]
    ranked = rank_changes(changes, {"cart": 1000.0, "web": 1010.0}, topo, window_s=600.0)
    order = [(r.change.service, r.change.kind, r.hops) for r in ranked]
    assert order == [("cart", "scale", 0), ("cart", "deploy", 0), ("search", "deploy", 1),
                     ("db", "config", 1), ("batch", "flag", None)]
    assert ranked[0].lead_s == 50.0 and ranked[0].nearest == "cart"
    near = rank_changes(changes, {"cart": 1000.0}, topo, window_s=600.0, max_hops=1)
    assert {r.change.service for r in near} == {"cart", "db"}


def test_no_symptoms_no_suspects() -> None:
    assert rank_changes([ChangeEvent(1.0, "db", "deploy")], {}, estate(), window_s=60) == []
