"""Hostile labels and parameters never reach a shell, a template, a URL or a path unescaped.

For every executor: either the input is rejected before anything is sent (and nothing is
sent), or the exact argv / request that was sent carries it as one inert value.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from tests.act._fakes import FakeHaproxyRuntime, FakeSshHost
from tests.act._k8s_replay import replaying

from healops.act.base import StepRequest
from healops.act.fake import FakeExecutor
from healops.act.haproxy import HaproxyExecutor
from healops.act.http import Endpoint, HttpExecutor
from healops.act.kubernetes import KubernetesExecutor
from healops.act.local import LocalExecutor, LocalSupervisor, ServiceSpec
from healops.act.ssh import CommandSpec, SshExecutor
from healops.act.validate import InvalidParameter, path_under
from healops.clock import SimClock

HOSTILE = [
    "; rm -rf /",
    "web; rm -rf /",
    "$(id)",
    "`id`",
    "web | cat /etc/passwd",
    "web && reboot",
    "web\nrm -rf /",
    "{{ 7*7 }}",
    "{% for x in () %}{% endfor %}",
    "${jndi:ldap://x}",
    "../../etc/passwd",
    "/etc/passwd",
    "web\x00",
    "x" * 100_000,
    "web/../../secrets",
    "-rf",
    "",
]
# Printable hostile text that a "text" parameter may legitimately carry as data.
PRINTABLE = [h for h in HOSTILE if h.isprintable() and len(h) <= 1024 and h]
SLEEP = [sys.executable, "-c", "import time; time.sleep(120)"]


@pytest.mark.parametrize("bad", HOSTILE)
def test_fake_rejects_hostile_targets_and_records_no_effect(bad: str) -> None:
    fake = FakeExecutor()
    with pytest.raises(InvalidParameter):
        fake.execute(StepRequest(action="restart", target=bad), key="k")
    assert fake.applied == [] and fake.state == {}


@pytest.mark.parametrize("bad", HOSTILE)
def test_local_rejects_hostile_targets_and_params(bad: str, tmp_path: Path) -> None:
    spec = ServiceSpec(name="web", versions={"1": SLEEP, "2": SLEEP}, version="1")
    with LocalSupervisor([spec], settle_s=0.0) as sup:
        ex = LocalExecutor(sup, clock=SimClock(), disk_roots={"logs": tmp_path})
        steps = [
            StepRequest(action="restart", target=bad),
            StepRequest(action="deploy", target="web", params={"version": bad}),
            StepRequest(action="scale", target="web", params={"replicas": bad}),
            StepRequest(action="kill_runaway", target="web", params={"pid": bad}),
            StepRequest(action="clean_disk", target=bad, params={"older_than_s": 1}),
            StepRequest(action="clean_disk", target="logs",
                        params={"older_than_s": 1, "suffix": bad}),
            StepRequest(action="clean_disk", target="logs",
                        params={"older_than_s": 1, "mode": bad}),
        ]
        for step in steps:
            with pytest.raises(InvalidParameter):
                ex.execute(step, key="k")
        assert sup.status("web").alive == 0  # nothing was started
        # a subdir is either refused or an inert name inside the root (empty here)
        subdir = StepRequest(action="clean_disk", target="logs",
                             params={"older_than_s": 1, "subdir": bad})
        try:
            result = ex.execute(subdir, key="s")
        except InvalidParameter:
            return
        assert not result.changed and bad.isprintable() and ".." not in bad


@pytest.mark.parametrize("bad", PRINTABLE)
def test_odd_but_relative_names_stay_inside_the_root(bad: str, tmp_path: Path) -> None:
    try:
        resolved = path_under(tmp_path, bad)
    except InvalidParameter:
        return
    assert resolved == tmp_path.resolve() or tmp_path.resolve() in resolved.parents


def test_symlink_escape_is_rejected(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "out").symlink_to("/etc")
    with pytest.raises(InvalidParameter, match="outside"):
        path_under(root, "out/passwd")


@pytest.mark.parametrize("bad", HOSTILE)
def test_haproxy_sends_nothing_for_hostile_targets_or_weights(bad: str) -> None:
    runtime = FakeHaproxyRuntime()
    ex = HaproxyExecutor(transport=runtime)
    for step in (StepRequest(action="drain", target=bad),
                 StepRequest(action="drain", target=f"app/{bad}"),
                 StepRequest(action="drain", target=f"{bad}/web1"),
                 StepRequest(action="set_weight", target="app/web1", params={"weight": bad})):
        with pytest.raises(InvalidParameter):
            ex.execute(step, key="k")
    assert runtime.lines == []


@pytest.mark.parametrize("bad", HOSTILE)
def test_ssh_rejects_hostile_names(bad: str) -> None:
    host = FakeSshHost()
    ex = SshExecutor(runner=host, commands={
        "restart": CommandSpec(argv=["systemctl", "restart", "{target}"]),
        "deploy": CommandSpec(argv=["deploy", "{target}", "{release}"],
                              params={"release": "version"}),
    })
    for step in (StepRequest(action="restart", target=bad),
                 StepRequest(action="deploy", target="web", params={"release": bad}),
                 StepRequest(action="restart", target="web", params={"extra": bad})):
        with pytest.raises(InvalidParameter):
            ex.execute(step, key="k")
    assert host.runs == []


@pytest.mark.parametrize("bad", PRINTABLE)
def test_ssh_text_is_one_literal_argv_element_even_through_a_shell(bad: str) -> None:
    host = FakeSshHost()
    ex = SshExecutor(runner=host, commands={
        "say": CommandSpec(argv=["printf", "%s", "{msg}"], params={"msg": "text"})})
    ex.execute(StepRequest(action="say", target="x", params={"msg": bad}), key="k")
    assert host.runs == [["printf", "%s", bad]]  # no re-expansion of {target}, {{ }}, $()
    line = shlex.join(host.runs[0])  # what the remote shell receives
    out = subprocess.run(["sh", "-c", line], capture_output=True, check=True, timeout=10)
    assert out.stdout.decode() == bad


@pytest.mark.parametrize("bad", [h for h in HOSTILE if h and h not in PRINTABLE])
def test_ssh_text_rejects_control_characters_nul_and_huge_input(bad: str) -> None:
    host = FakeSshHost()
    ex = SshExecutor(runner=host, commands={
        "say": CommandSpec(argv=["printf", "%s", "{msg}"], params={"msg": "text"})})
    with pytest.raises(InvalidParameter):
        ex.execute(StepRequest(action="say", target="x", params={"msg": bad}), key="k")
    assert host.runs == []


def _http(sent: list[httpx.Request]) -> HttpExecutor:
    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200)

    return HttpExecutor(base_url="http://ops.test/api", transport=httpx.MockTransport(handler),
                        endpoints={
                            "restart": Endpoint("POST", "/services/{target}/restart"),
                            "annotate": Endpoint("POST", "/services/{target}/notes/{note}",
                                                 params={"note": "text"}),
                        })


@pytest.mark.parametrize("bad", HOSTILE)
def test_http_rejects_hostile_targets_before_sending(bad: str) -> None:
    sent: list[httpx.Request] = []
    ex = _http(sent)
    with pytest.raises(InvalidParameter):
        ex.execute(StepRequest(action="restart", target=bad), key="k")
    assert sent == []
    ex.close()


@pytest.mark.parametrize("bad", PRINTABLE)
def test_http_text_is_one_percent_encoded_segment_and_one_json_value(bad: str) -> None:
    sent: list[httpx.Request] = []
    ex = _http(sent)
    ex.execute(StepRequest(action="annotate", target="web", params={"note": bad}), key="k")
    ex.close()
    (request,) = sent
    assert request.url.host == "ops.test"
    assert request.url.raw_path == f"/api/services/web/notes/{quote(bad, safe='')}".encode()
    assert request.url.query == b""
    assert json.loads(request.content)["params"] == {"note": bad}


@pytest.mark.parametrize("bad", HOSTILE)
def test_kubernetes_sends_nothing_for_hostile_names_or_replicas(bad: str) -> None:
    with replaying([]) as replay:
        api = replay.api_client()
        try:
            ex = KubernetesExecutor(api, namespace="shop", clock=SimClock())
            for step in (StepRequest(action="delete_pod", target=bad),
                         StepRequest(action="rollout_restart", target=bad),
                         StepRequest(action="scale", target="web", params={"replicas": bad})):
                with pytest.raises(InvalidParameter):
                    ex.execute(step, key="k")
        finally:
            api.close()
    assert replay.received == []
