"""Similar past incidents: the same fault on the same service first, then on a neighbour."""

from __future__ import annotations

from healops.act.fake import FakeExecutor
from healops.api.wiring import PageLog
from healops.bootstrap import bootstrap
from healops.clock import SimClock
from healops.config.load import default_config
from healops.config.models import ServiceConfig, TopologyConfig
from healops.loop import Engine


def _engine() -> Engine:
    topo = TopologyConfig(services=[
        ServiceConfig(name="edge", depends_on=["api"]),
        ServiceConfig(name="api", depends_on=["db"]),
        ServiceConfig(name="db"), ServiceConfig(name="mail")])
    cfg = default_config().model_copy(update={"topology": topo, "store_url": "sqlite://"})
    return bootstrap(cfg, executor=FakeExecutor(), pager=PageLog(), clock=SimClock())


def test_the_same_service_comes_first_then_neighbours_by_distance() -> None:
    engine = _engine()
    engine._history = {
        "bad_deploy:api": ["INC-1: rollback api fixed it", "INC-4: rollback api fixed it"],
        "bad_deploy:db": ["INC-2: rollback db fixed it"],  # one call from api
        "bad_deploy:edge": ["INC-3: rollback edge fixed it"],  # one call the other way
        "bad_deploy:mail": ["INC-5: rollback mail fixed it"],  # not connected
        "disk_filling:db": ["INC-6: clean_disk db-0 fixed it"],  # another fault
    }
    assert engine._similar("bad_deploy:api") == [
        "same fault, same service: INC-4: rollback api fixed it",
        "same fault, same service: INC-1: rollback api fixed it",
        "same fault on db (1 call away): INC-2: rollback db fixed it",
        "same fault on edge (1 call away): INC-3: rollback edge fixed it",
    ]
    assert engine._similar("bad_deploy:mail") == [
        "same fault, same service: INC-5: rollback mail fixed it"]
    # A fault never fixed anywhere near has nothing to offer.
    assert engine._similar("cert_expiring:api") == []
    assert engine._similar("bad_deploy:edge")[1] == \
        "same fault on api (1 call away): INC-4: rollback api fixed it"
    assert "db (2 calls away)" in engine._similar("bad_deploy:edge")[2]
