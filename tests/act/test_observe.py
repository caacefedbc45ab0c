"""``observe`` on the real executors: local child processes, SSH and HTTP.

HAProxy is checked against a real haproxy in ``tests/integration/test_haproxy.py`` and
Kubernetes against recorded exchanges in ``tests/act/test_kubernetes.py``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

import httpx
import pytest
from tests.act._fakes import FakeSshHost

from healops.act.base import Observed, Observer, StepRequest
from healops.act.http import Endpoint, HttpExecutor
from healops.act.journal import ActionJournal
from healops.act.local import LocalExecutor, LocalSupervisor, ServiceSpec
from healops.act.ssh import SshExecutor
from healops.clock import SimClock
from healops.domain.actions import ActionRun
from healops.store.sqlalchemy import SqlAlchemyStore

SLEEP = [sys.executable, "-c", "import time; time.sleep(120)"]


@pytest.fixture
def clock() -> SimClock:
    return SimClock(start=1000.0)


@pytest.fixture
def sup(clock: SimClock) -> Iterator[LocalSupervisor]:
    spec = ServiceSpec(name="web", versions={"1.0": SLEEP, "1.1": SLEEP}, version="1.0",
                       replicas=2, stop_timeout_s=2.0)
    with LocalSupervisor([spec], settle_s=0.05, clock=clock) as s:
        s.start("web")
        yield s


def _seen(ex: LocalExecutor, action: str, since: float, **params: object) -> Observed:
    return ex.observe(StepRequest(action, "web", params), key="k", since=since)


def test_local_deploy_scale_stop_compare_the_supervisor_state(
        sup: LocalSupervisor, clock: SimClock) -> None:
    ex = LocalExecutor(sup, clock=clock)
    clock.advance(10)
    since = clock.now()
    assert _seen(ex, "deploy", since, version="1.1") is Observed.ABSENT
    assert _seen(ex, "scale", since, replicas=3) is Observed.ABSENT
    assert _seen(ex, "stop", since) is Observed.ABSENT
    assert _seen(ex, "start", since) is Observed.APPLIED
    sup.deploy("web", "1.1")
    sup.scale("web", 3)
    assert _seen(ex, "deploy", since, version="1.1") is Observed.APPLIED
    assert _seen(ex, "scale", since, replicas=3) is Observed.APPLIED
    sup.stop("web")
    assert _seen(ex, "stop", since) is Observed.APPLIED
    assert _seen(ex, "start", since) is Observed.ABSENT


def test_local_rollback_is_applied_only_by_a_version_switch_after_the_intent(
        sup: LocalSupervisor, clock: SimClock) -> None:
    ex = LocalExecutor(sup, clock=clock)
    sup.deploy("web", "1.1")
    clock.advance(10)
    since = clock.now()
    assert _seen(ex, "rollback", since) is Observed.ABSENT  # the deploy came before
    clock.advance(1)
    sup.rollback("web")
    assert sup.status("web").version == "1.0"
    assert _seen(ex, "rollback", since) is Observed.APPLIED


def test_local_restart_is_judged_by_the_replicas_start_times(
        sup: LocalSupervisor, clock: SimClock) -> None:
    ex = LocalExecutor(sup, clock=clock)
    clock.advance(10)
    since = clock.now()
    for action in ("restart", "rolling_restart"):
        assert _seen(ex, action, since) is Observed.ABSENT  # replicas from before
    clock.advance(1)
    pids = set(sup.status("web").pids)
    sup.rolling_restart("web")
    assert not pids & set(sup.status("web").pids)
    for action in ("restart", "rolling_restart"):
        assert _seen(ex, action, since) is Observed.APPLIED
    sup.scale("web", 3)  # replica 2 is new but 0 and 1 are too: still all after since
    assert _seen(ex, "restart", since) is Observed.APPLIED
    assert _seen(ex, "restart", clock.now() + 0.5) is Observed.ABSENT
    sup.stop("web")
    assert _seen(ex, "restart", since) is Observed.UNKNOWN  # nothing alive to date


def test_local_restart_half_done_is_unknown(sup: LocalSupervisor, clock: SimClock) -> None:
    ex = LocalExecutor(sup, clock=clock)
    clock.advance(10)
    since = clock.now()
    clock.advance(1)
    pid = sup.status("web").pids[0]
    sup.stop_process("web", pid)  # one replica replaced after the intent, one from before
    assert _seen(ex, "rolling_restart", since) is Observed.UNKNOWN


def test_local_cannot_tell_without_memory_of_the_intent(clock: SimClock) -> None:
    spec = ServiceSpec(name="web", versions={"1.0": SLEEP, "1.1": SLEEP}, version="1.0")
    since = clock.now()
    clock.advance(5)
    # a supervisor made after the intent (a new engine process) knows only its config
    with LocalSupervisor([spec], settle_s=0.05, clock=clock) as fresh:
        ex = LocalExecutor(fresh, clock=clock)
        assert _seen(ex, "deploy", since, version="1.0") is Observed.UNKNOWN
        assert _seen(ex, "stop", since) is Observed.UNKNOWN
    # a supervisor that keeps no time cannot place anything before or after the intent
    with LocalSupervisor([spec], settle_s=0.05) as timeless:
        timeless.start("web")
        ex = LocalExecutor(timeless, clock=clock)
        assert _seen(ex, "deploy", since, version="1.0") is Observed.UNKNOWN
        assert _seen(ex, "restart", since) is Observed.UNKNOWN


def test_local_relative_and_one_off_actions_are_unknown(
        sup: LocalSupervisor, clock: SimClock) -> None:
    ex = LocalExecutor(sup, clock=clock)
    since = clock.now() + 1
    clock.advance(2)
    assert _seen(ex, "scale_out", since, by=1) is Observed.UNKNOWN
    assert _seen(ex, "kill_runaway", since, pid=1) is Observed.UNKNOWN
    assert ex.observe(StepRequest("restart", "nosuch"), key="k", since=since) \
        is Observed.UNKNOWN
    assert ex.observe(StepRequest("explode", "web"), key="k", since=since) is Observed.UNKNOWN


def test_ssh_and_http_cannot_tell() -> None:
    ssh = SshExecutor(runner=FakeSshHost())
    http = HttpExecutor(base_url="http://ops.test",
                        transport=httpx.MockTransport(lambda r: httpx.Response(500)),
                        endpoints={"restart": Endpoint("POST", "/services/{target}/restart")})
    try:
        for ex in (ssh, http):
            assert isinstance(ex, Observer)
            assert ex.observe(StepRequest("restart", "web"), key="k", since=0.0) \
                is Observed.UNKNOWN
    finally:
        http.close()


def test_journal_settles_an_interrupted_deploy_as_applied_without_running_it_again(
        sup: LocalSupervisor, clock: SimClock) -> None:
    store = SqlAlchemyStore("sqlite://")
    clock.advance(10)
    intent_at = clock.now()
    step = StepRequest("deploy", "web", {"version": "1.1"})
    # the engine wrote the intent, the deploy ran, and the engine died before the result
    assert store.record_intent(ActionRun("k-1", "INC-1", step.action, step.target, intent_at,
                                         params=dict(step.params), timeout_s=step.timeout_s))
    clock.advance(1)
    sup.deploy("web", "1.1")
    after_deploy = sup.status("web")
    clock.advance(5)

    journal = ActionJournal(store, LocalExecutor(sup, clock=clock))  # a new ledger: no keys
    [settled] = journal.reconcile(clock.now())

    assert settled.seen is Observed.APPLIED
    assert not settled.rerun and not settled.escalate and settled.result.ok
    now = sup.status("web")
    assert now.pids == after_deploy.pids and now.started_at == after_deploy.started_at
    run = store.get_run("k-1")
    assert run is not None and run.result is not None and run.result.ok
    assert journal.run("INC-1", step, key="k-1", now=clock.now()).ok  # the result is kept
    assert sup.status("web").pids == after_deploy.pids


def test_journal_reruns_an_interrupted_scale_the_target_proves_never_happened(
        sup: LocalSupervisor, clock: SimClock) -> None:
    store = SqlAlchemyStore("sqlite://")
    clock.advance(10)
    step = StepRequest("scale", "web", {"replicas": 3})
    store.record_intent(ActionRun("k-2", "INC-1", step.action, step.target, clock.now(),
                                  params=dict(step.params), timeout_s=step.timeout_s))
    clock.advance(1)
    [settled] = ActionJournal(store, LocalExecutor(sup, clock=clock)).reconcile(clock.now())
    assert settled.seen is Observed.ABSENT and settled.rerun and settled.result.ok
    assert sup.status("web").alive == 3
