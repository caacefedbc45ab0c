"""One contract suite for every executor.

- the same idempotency key twice applies the action once;
- dry run changes nothing;
- a failure is an ``ActionError`` saying whether it is retryable;
- an unknown action, or a step without a sane timeout, is rejected clearly.

Kubernetes runs through its recorded API exchanges; the HAProxy and SSH executors run
against in-memory stand-ins of their far side here and against real haproxy and sshd in
``tests/integration``.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from tests.act._fakes import FakeHaproxyRuntime, FakeSshHost
from tests.act._k8s_replay import load, replaying

from healops.act.base import ActionError, Executor, StepRequest
from healops.act.fake import FakeExecutor
from healops.act.haproxy import HaproxyExecutor
from healops.act.http import Endpoint, HttpExecutor
from healops.act.kubernetes import KubernetesExecutor
from healops.act.local import LocalExecutor, LocalSupervisor, ServiceSpec
from healops.act.ssh import CommandSpec, SshExecutor
from healops.act.validate import InvalidParameter
from healops.clock import SimClock

SLEEP = [sys.executable, "-c", "import time; time.sleep(120)"]
CRASH = [sys.executable, "-c", "raise SystemExit(3)"]


@dataclass
class Harness:
    """An executor, a step that changes something, how to count effects, and a failure."""

    executor: Executor
    step: StepRequest
    effects: Callable[[], int]
    failing: Callable[[], tuple[Executor, StepRequest]]
    cleanup: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)


def _fake() -> Harness:
    fake = FakeExecutor()

    def failing() -> tuple[Executor, StepRequest]:
        fake.fail_next("restart", retryable=True)
        return fake, StepRequest(action="restart", target="db")

    return Harness(fake, StepRequest(action="restart", target="web"),
                   lambda: len(fake.applied), failing)


def _local() -> Harness:
    stack = contextlib.ExitStack()
    spec = ServiceSpec(name="web", versions={"1": SLEEP, "bad": CRASH}, version="1",
                       stop_timeout_s=2.0)
    sup = stack.enter_context(LocalSupervisor([spec], settle_s=0.05))
    sup.start("web")
    ex = LocalExecutor(sup, clock=SimClock())

    def failing() -> tuple[Executor, StepRequest]:
        return ex, StepRequest(action="deploy", target="web", params={"version": "bad"})

    return Harness(ex, StepRequest(action="restart", target="web"),
                   lambda: sup.status("web").restarts, failing, stack)


def _http() -> Harness:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if request.url.path.endswith("/broken/restart"):
            return httpx.Response(503)
        return httpx.Response(200, json={"changed": True})

    ex = HttpExecutor(base_url="http://ops.test", transport=httpx.MockTransport(handler),
                      endpoints={"restart": Endpoint("POST", "/services/{target}/restart")})
    stack = contextlib.ExitStack()
    stack.callback(ex.close)
    return Harness(ex, StepRequest(action="restart", target="web"), lambda: len(sent),
                   lambda: (ex, StepRequest(action="restart", target="broken")), stack)


def _haproxy() -> Harness:
    runtime = FakeHaproxyRuntime()
    ex = HaproxyExecutor(transport=runtime)

    def failing() -> tuple[Executor, StepRequest]:
        return (HaproxyExecutor(transport=FakeHaproxyRuntime(down=True)),
                StepRequest(action="drain", target="app/web2"))

    return Harness(ex, StepRequest(action="drain", target="app/web1"),
                   lambda: len(runtime.writes), failing)


def _ssh() -> Harness:
    host = FakeSshHost()
    ex = SshExecutor(runner=host)

    def failing() -> tuple[Executor, StepRequest]:
        broken = FakeSshHost(exit_status=1)
        commands = {"restart": CommandSpec(argv=["systemctl", "restart", "{target}"])}
        return SshExecutor(runner=broken, commands=commands), StepRequest(
            action="restart", target="web")

    return Harness(ex, StepRequest(action="restart", target="nginx"), lambda: len(host.runs),
                   failing)


def _kubernetes() -> Harness:
    stack = contextlib.ExitStack()

    def open_executor(fixture: str) -> tuple[KubernetesExecutor, Callable[[], int]]:
        read_deployment = load("rollback")[0]  # what a dry run of a restart reads
        replay = stack.enter_context(replaying([*load(fixture), read_deployment]))
        api = replay.api_client()
        stack.callback(api.close)
        writes = lambda: sum(r["method"] != "GET" for r in replay.received)  # noqa: E731
        return KubernetesExecutor(api, namespace="shop", clock=SimClock()), writes

    ex, writes = open_executor("rollout_restart")

    def failing() -> tuple[Executor, StepRequest]:
        broken, _ = open_executor("restart_unavailable")
        return broken, StepRequest(action="rollout_restart", target="web")

    return Harness(ex, StepRequest(action="rollout_restart", target="web"), writes, failing,
                   stack)


HARNESSES: dict[str, Callable[[], Harness]] = {
    "fake": _fake, "local": _local, "http": _http, "haproxy": _haproxy, "ssh": _ssh,
    "kubernetes": _kubernetes,
}


@pytest.fixture(params=sorted(HARNESSES))
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    h = HARNESSES[request.param]()
    with h.cleanup:
        yield h


def test_same_key_twice_applies_once(harness: Harness) -> None:
    before = harness.effects()
    first = harness.executor.execute(harness.step, key="incident-1/step-1")
    assert first.ok and first.changed
    assert harness.effects() == before + 1
    second = harness.executor.execute(harness.step, key="incident-1/step-1")
    assert second.ok and not second.changed
    assert harness.effects() == before + 1


def test_dry_run_changes_nothing(harness: Harness) -> None:
    before = harness.effects()
    result = harness.executor.execute(harness.step, key="dry-1", dry_run=True)
    assert result.ok and not result.changed and result.message.startswith("dry run")
    assert harness.effects() == before
    # a dry run does not use up the key: the real run still happens
    assert harness.executor.execute(harness.step, key="dry-1").changed
    assert harness.effects() == before + 1


def test_failures_say_whether_retryable(harness: Harness) -> None:
    executor, step = harness.failing()
    with pytest.raises(ActionError) as err:
        executor.execute(step, key="fail-1")
    assert isinstance(err.value.retryable, bool) and str(err.value)


def test_unknown_action_is_rejected_clearly(harness: Harness) -> None:
    before = harness.effects()
    step = StepRequest(action="reboot_the_world", target=harness.step.target)
    with pytest.raises(InvalidParameter) as err:
        harness.executor.execute(step, key="u-1")
    assert not err.value.retryable
    assert "unknown action 'reboot_the_world'" in str(err.value)
    assert "known actions:" in str(err.value)
    assert harness.effects() == before


@pytest.mark.parametrize("timeout_s", [0.0, -1.0, float("inf"), float("nan"), 1e9])
def test_every_action_has_a_finite_timeout(harness: Harness, timeout_s: float) -> None:
    step = StepRequest(action=harness.step.action, target=harness.step.target,
                       params=harness.step.params, timeout_s=timeout_s)
    with pytest.raises(InvalidParameter, match="timeout_s"):
        harness.executor.execute(step, key="t-1")


def test_a_key_reused_for_a_different_step_is_refused(harness: Harness) -> None:
    harness.executor.execute(harness.step, key="reuse-1")
    other = StepRequest(action="frobnicate", target=harness.step.target)
    with pytest.raises(InvalidParameter):
        harness.executor.execute(other, key="reuse-1")
    again = StepRequest(action=harness.step.action, target=harness.step.target,
                        params={**harness.step.params}, timeout_s=harness.step.timeout_s)
    assert not harness.executor.execute(again, key="reuse-1").changed


@pytest.mark.parametrize("key", ["", "has space", "x" * 201, "bad\nkey", "nul\x00"])
def test_malformed_keys_are_rejected(harness: Harness, key: str) -> None:
    with pytest.raises(InvalidParameter, match="key"):
        harness.executor.execute(harness.step, key=key)
