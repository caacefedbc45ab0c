"""Blast radius counts only the service's own instances that an action has out of service."""

from __future__ import annotations

from healops.act.fake import FakeExecutor
from healops.api.wiring import PageLog
from healops.bootstrap import bootstrap
from healops.clock import SimClock
from healops.config.load import default_config
from healops.config.models import ServiceConfig, TopologyConfig
from healops.domain.plans import Plan, PlannedStep
from healops.loop import Engine, PlanRun, RunState, _Work


def _engine() -> Engine:
    topo = TopologyConfig(services=[ServiceConfig(name="api", replicas=3),
                                    ServiceConfig(name="api-gateway", replicas=2)])
    cfg = default_config().model_copy(update={"topology": topo, "store_url": "sqlite://"})
    engine = bootstrap(cfg, executor=FakeExecutor(), pager=PageLog(), clock=SimClock())
    engine.instances = {"api": {"api-0", "api-1", "api-2"},
                        "api-gateway": {"api-gateway-0", "api-gateway-1"}}
    return engine


def _busy(engine: Engine, incident: str, action: str, target: str, service: str) -> None:
    step = PlannedStep(action, target, service)
    plan = Plan(incident_id=incident, runbook="rb", signature=f"x:{service}", cause=service,
                confidence=0.9, steps=(step,))
    run = PlanRun(plan, index=0)
    run.state = RunState.VERIFYING
    engine.work[incident] = _Work(runs=[run])
    engine._busy[target] = incident


def test_only_disruptive_actions_on_the_services_own_instances_count() -> None:
    engine = _engine()
    _busy(engine, "I1", "restart", "api-gateway-1", "api-gateway")  # another service
    _busy(engine, "I2", "clean_disk", "api-2", "api")  # not disruptive
    assert engine._disrupted("api", "api-0") == 0
    _busy(engine, "I3", "drain", "api-1", "api")
    assert engine._disrupted("api", "api-0") == 1
    assert engine._disrupted("api", "api-1") == 0  # the step's own target is not counted
