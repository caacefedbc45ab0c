"""KubernetesExecutor, checked against recorded API exchanges (no cluster runs here).

Each test replays ``tests/fixtures/k8s/<name>.json`` from a local HTTP server and asserts
that the official client sent exactly the recorded requests: method, path, query, content
type and body.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from tests.act._k8s_replay import Replay, load, replaying

from healops.act.base import ActionError, Observed, StepRequest
from healops.act.kubernetes import KubernetesExecutor
from healops.act.validate import InvalidParameter
from healops.clock import SimClock

pytestmark = pytest.mark.contract

POD = "web-8d4e6f7a1-x2k9p"


@contextmanager
def executor(fixture: str) -> Iterator[tuple[KubernetesExecutor, Replay]]:
    with replaying(load(fixture)) as replay:
        api = replay.api_client()
        try:
            yield KubernetesExecutor(api, namespace="shop", clock=SimClock()), replay
        finally:
            api.close()
    assert replay.received == replay.expected


def test_delete_pod_once_per_key() -> None:
    with executor("delete_pod") as (ex, _):
        step = StepRequest(action="delete_pod", target=POD)
        assert ex.execute(step, key="k").changed
        assert not ex.execute(step, key="k").changed  # no second DELETE (the replay checks)


def test_delete_pod_already_gone_is_no_change() -> None:
    with executor("delete_pod_gone") as (ex, _):
        assert not ex.execute(StepRequest(action="delete_pod", target=POD), key="k").changed


def test_delete_pod_dry_run_only_reads() -> None:
    with executor("delete_pod_dry_run") as (ex, _):
        r = ex.execute(StepRequest(action="delete_pod", target=POD), key="k", dry_run=True)
        assert not r.changed and "would delete" in r.message


def test_rollout_restart_patches_the_template_annotation_with_the_clock_time() -> None:
    with executor("rollout_restart") as (ex, _):
        r = ex.execute(StepRequest(action="rollout_restart", target="web"), key="k")
        assert r.changed and "2026-01-01T00:00:00Z" in r.message


def test_scale_patches_only_when_different() -> None:
    with executor("scale") as (ex, _):
        step = StepRequest(action="scale", target="web", params={"replicas": 5})
        assert ex.execute(step, key="k").message == "scaled shop/web 3 -> 5"
    with executor("scale_unchanged") as (ex, _):
        step = StepRequest(action="scale", target="web", params={"replicas": 5})
        assert not ex.execute(step, key="k2").changed
    with executor("scale_dry_run") as (ex, _):
        step = StepRequest(action="scale", target="web", params={"replicas": 5})
        assert "from 3 to 5" in ex.execute(step, key="k3", dry_run=True).message


def test_rollback_uses_the_previous_owned_replica_set_template() -> None:
    with executor("rollback") as (ex, replay):
        r = ex.execute(StepRequest(action="rollback", target="web"), key="k")
        assert r.changed and "revision 2" in r.message
    patch = replay.received[-1]["body"][0]["value"]
    assert patch["spec"]["containers"][0]["image"] == "registry.local/web:1.2"
    assert "pod-template-hash" not in patch["metadata"]["labels"]


@pytest.mark.parametrize(("fixture", "step", "retryable"), [
    ("restart_unavailable", StepRequest(action="rollout_restart", target="web"), True),
    ("restart_forbidden", StepRequest(action="rollout_restart", target="web"), False),
    ("scale_conflict", StepRequest(action="scale", target="web", params={"replicas": 5}), True),
])
def test_api_errors_say_whether_retryable(fixture: str, step: StepRequest,
                                          retryable: bool) -> None:
    with executor(fixture) as (ex, _):
        with pytest.raises(ActionError) as err:
            ex.execute(step, key="k")
        assert err.value.retryable is retryable


def test_bad_names_never_reach_the_api() -> None:
    with executor_without_exchanges() as ex:
        for target in ("Web", "web/../../secrets", "web;rm", "-web", "a" * 300):
            with pytest.raises(InvalidParameter):
                ex.execute(StepRequest(action="delete_pod", target=target), key="k")


@contextmanager
def executor_without_exchanges() -> Iterator[KubernetesExecutor]:
    with replaying([]) as replay:
        api = replay.api_client()
        try:
            yield KubernetesExecutor(api, namespace="shop", clock=SimClock())
        finally:
            api.close()
    assert replay.received == []


def test_unreachable_api_is_retryable() -> None:
    from kubernetes import client

    cfg = client.Configuration()
    cfg.host = "http://127.0.0.1:9"  # discard port: nothing listens
    cfg.retries = 0
    api = client.ApiClient(cfg)
    try:
        ex = KubernetesExecutor(api, namespace="shop", clock=SimClock())
        with pytest.raises(ActionError) as err:
            ex.execute(StepRequest(action="rollout_restart", target="web", timeout_s=2), key="k")
        assert err.value.retryable
    finally:
        api.close()


# -- observe: what the cluster shows about an action interrupted by a crash ---------------

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z, the time in the recorded restartedAt


@pytest.mark.parametrize(("fixture", "step", "since", "seen"), [
    ("scale_unchanged", StepRequest("scale", "web", {"replicas": 5}), T0, Observed.APPLIED),
    ("scale_dry_run", StepRequest("scale", "web", {"replicas": 5}), T0, Observed.ABSENT),
    ("observe_restart", StepRequest("rollout_restart", "web"), T0 + 0.4, Observed.APPLIED),
    ("observe_restart", StepRequest("rollout_restart", "web"), T0 + 60, Observed.ABSENT),
    ("observe_restart_unavailable", StepRequest("rollout_restart", "web"), T0,
     Observed.UNKNOWN),
    ("observe_pod_gone", StepRequest("delete_pod", POD), T0, Observed.APPLIED),
    ("observe_pod_recreated", StepRequest("delete_pod", POD), T0, Observed.APPLIED),
    ("observe_pod_old", StepRequest("delete_pod", POD), T0, Observed.ABSENT),
    ("observe_pod_recreated", StepRequest("delete_pod", POD), T0 + 5.5, Observed.UNKNOWN),
    ("delete_pod_dry_run", StepRequest("delete_pod", POD), T0, Observed.UNKNOWN),  # no time
])
def test_observe_reads_the_target(fixture: str, step: StepRequest, since: float,
                                  seen: Observed) -> None:
    with executor(fixture) as (ex, _):
        assert ex.observe(step, key="k", since=since) is seen


def test_observe_rollback_cannot_tell_and_reads_nothing() -> None:
    with executor_without_exchanges() as ex:
        assert ex.observe(StepRequest("rollback", "web"), key="k", since=T0) \
            is Observed.UNKNOWN
        assert ex.observe(StepRequest("scale", "Web;x", {"replicas": 1}), key="k", since=T0) \
            is Observed.UNKNOWN
