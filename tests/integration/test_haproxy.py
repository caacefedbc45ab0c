"""HaproxyExecutor against a real HAProxy: drain a server and watch traffic leave it."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.integration._proc_act import (
    free_port,
    http_backends,
    port_open,
    require_binary,
    running,
    short_tmpdir,
    wait_until,
)

from healops.act.base import ActionError, Observed, StepRequest
from healops.act.haproxy import HaproxyExecutor, tcp_transport, unix_transport
from healops.act.journal import ActionJournal
from healops.act.validate import InvalidParameter
from healops.domain.actions import ActionRun
from healops.store.sqlalchemy import SqlAlchemyStore

pytestmark = pytest.mark.integration

CONFIG = """\
global
    stats socket {sock} mode 600 level admin
    stats socket ipv4@127.0.0.1:{admin_port} level admin
    stats timeout 5s
defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:{front}
    default_backend app
backend app
    balance roundrobin
    server web1 127.0.0.1:{web1}
    server web2 127.0.0.1:{web2}
"""


class Lab:
    def __init__(self, front: int, sock: Path, admin_port: int, hits: dict[str, int]) -> None:
        self.front, self.sock, self.admin_port, self.hits = front, sock, admin_port, hits

    def get(self, n: int) -> list[str]:
        """``n`` requests through HAProxy, each on a new connection; the backends that answered."""
        seen = []
        for _ in range(n):
            conn = http.client.HTTPConnection("127.0.0.1", self.front, timeout=5)
            try:
                conn.request("GET", "/", headers={"Connection": "close"})
                seen.append(conn.getresponse().read().decode())
            finally:
                conn.close()
        return seen


@pytest.fixture
def lab() -> Iterator[Lab]:
    haproxy = require_binary("haproxy", "/usr/sbin")
    with short_tmpdir() as d, http_backends(["web1", "web2"]) as (ports, hits):
        front, admin_port = free_port(), free_port()
        cfg = d / "haproxy.cfg"
        sock = d / "admin.sock"
        cfg.write_text(CONFIG.format(sock=sock, admin_port=admin_port, front=front, **ports))
        with running([haproxy, "-f", str(cfg), "-db"], log=d / "haproxy.log") as proc:
            wait_until(
                lambda: port_open(front) and sock.exists(),
                timeout_s=10,
                what="haproxy to listen",
                proc=proc,
                log=d / "haproxy.log",
            )
            yield Lab(front, sock, admin_port, hits)


def test_drain_stops_new_traffic_to_the_server_and_ready_restores_it(lab: Lab) -> None:
    ex = HaproxyExecutor(transport=unix_transport(lab.sock))
    assert sorted(set(lab.get(4))) == ["web1", "web2"]

    dry = ex.execute(StepRequest(action="drain", target="app/web1"), key="d1", dry_run=True)
    assert not dry.changed and "would change" in dry.message
    assert ex.server_state("app", "web1").mode == "ready"

    r = ex.execute(StepRequest(action="drain", target="app/web1"), key="d1")
    assert r.ok and r.changed
    assert ex.server_state("app", "web1").mode == "drain"
    before = lab.hits["web1"]
    assert set(lab.get(6)) == {"web2"}
    assert lab.hits["web1"] == before

    # same key: not applied again; new key while already drained: no change
    assert not ex.execute(StepRequest(action="drain", target="app/web1"), key="d1").changed
    assert not ex.execute(StepRequest(action="drain", target="app/web1"), key="d2").changed

    assert ex.execute(StepRequest(action="ready", target="app/web1"), key="r1").changed
    assert sorted(set(lab.get(4))) == ["web1", "web2"]


def test_maint_then_drain_and_weight_over_tcp(lab: Lab) -> None:
    ex = HaproxyExecutor(transport=tcp_transport("127.0.0.1", lab.admin_port))
    assert ex.execute(StepRequest(action="maint", target="app/web2"), key="m").changed
    assert set(lab.get(4)) == {"web1"}
    assert ex.execute(StepRequest(action="drain", target="app/web2"), key="d").changed
    assert ex.server_state("app", "web2").mode == "drain"
    step = StepRequest(action="set_weight", target="app/web1", params={"weight": 7})
    assert ex.execute(step, key="w").changed
    assert ex.server_state("app", "web1").weight == 7
    assert not ex.execute(
        StepRequest(action="set_weight", target="app/web1", params={"weight": 7}), key="w2"
    ).changed


def test_unknown_server_is_not_retryable_and_dead_socket_is(lab: Lab) -> None:
    ex = HaproxyExecutor(transport=unix_transport(lab.sock))
    with pytest.raises(InvalidParameter):
        ex.execute(StepRequest(action="drain", target="app/nope"), key="x")
    with pytest.raises(ActionError) as err:
        ex.execute(StepRequest(action="drain", target="nope/web1"), key="y")
    assert not err.value.retryable
    gone = HaproxyExecutor(transport=unix_transport(lab.sock.with_name("missing.sock")))
    with pytest.raises(ActionError) as err:
        gone.execute(StepRequest(action="drain", target="app/web1"), key="z")
    assert err.value.retryable


def test_observe_reads_the_server_state_over_the_runtime_api(lab: Lab) -> None:
    ex = HaproxyExecutor(transport=unix_transport(lab.sock))
    drain = StepRequest(action="drain", target="app/web1")
    weight = StepRequest(action="set_weight", target="app/web2", params={"weight": 9})
    assert ex.observe(drain, key="d", since=0.0) is Observed.ABSENT
    assert ex.observe(weight, key="w", since=0.0) is Observed.ABSENT
    assert ex.observe(StepRequest(action="ready", target="app/web1"), key="r", since=0.0) \
        is Observed.APPLIED
    # the commands reached haproxy, as they would have just before a crash
    assert ex.execute(drain, key="d").changed and ex.execute(weight, key="w").changed
    fresh = HaproxyExecutor(transport=tcp_transport("127.0.0.1", lab.admin_port))  # no keys
    assert fresh.observe(drain, key="d", since=0.0) is Observed.APPLIED
    assert fresh.observe(weight, key="w", since=0.0) is Observed.APPLIED
    assert fresh.observe(StepRequest(action="maint", target="app/web1"), key="m", since=0.0) \
        is Observed.ABSENT
    gone = HaproxyExecutor(transport=unix_transport(lab.sock.with_name("missing.sock")))
    assert gone.observe(drain, key="d", since=0.0) is Observed.UNKNOWN
    assert ex.observe(StepRequest(action="drain", target="app/nope"), key="x", since=0.0) \
        is Observed.UNKNOWN


def test_journal_settles_an_interrupted_drain_as_applied_without_draining_again(
    lab: Lab,
) -> None:
    store = SqlAlchemyStore("sqlite://")
    step = StepRequest(action="drain", target="app/web1")
    store.record_intent(ActionRun("k-drain", "INC-1", step.action, step.target, 100.0,
                                  params={}, timeout_s=step.timeout_s))
    lines: list[str] = []
    send = unix_transport(lab.sock)

    def recording(line: str, timeout_s: float) -> str:
        lines.append(line)
        return send(line, timeout_s)

    HaproxyExecutor(transport=send).execute(step, key="k-drain")  # ran; the result was lost
    [settled] = ActionJournal(store, HaproxyExecutor(transport=recording)).reconcile(200.0)
    assert settled.seen is Observed.APPLIED and not settled.rerun and settled.result.ok
    assert lines == ["show servers state app"]  # read only: no "set server" was sent


def test_a_missing_binary_fails_under_ci_and_skips_with_a_reason_elsewhere(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI is set"):
        require_binary("healops-no-such-binary")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="not installed"):
        require_binary("healops-no-such-binary")
