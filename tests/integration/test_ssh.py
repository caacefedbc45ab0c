"""SshExecutor against a real sshd started on a loopback port with its own keys and config."""

from __future__ import annotations

import contextlib
import getpass
import os
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.integration._proc_act import (
    free_port,
    port_open,
    require_binary,
    running,
    short_tmpdir,
    wait_until,
)

from healops.act.base import ActionError, StepRequest
from healops.act.ssh import AsyncsshRunner, CommandSpec, SshExecutor
from healops.act.validate import InvalidParameter

pytestmark = pytest.mark.integration

SSHD_CONFIG = """\
Port {port}
ListenAddress 127.0.0.1
HostKey {d}/host_ed25519
PidFile {d}/sshd.pid
AuthorizedKeysFile {d}/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
LogLevel VERBOSE
"""

# A stand-in for systemctl: records "<verb> <unit>" so the test can see what ran.
FAKE_SYSTEMCTL = """\
#!/bin/sh
printf '%s %s\\n' "$1" "$2" >> "{d}/systemctl.log"
"""


@dataclass
class Host:
    d: Path
    runner: AsyncsshRunner


@contextlib.contextmanager
def _privsep_dir() -> Iterator[None]:
    """sshd needs /run/sshd; create it if missing and remove it again if we did."""
    run_sshd = Path("/run/sshd")
    created = False
    if not run_sshd.exists():
        run_sshd.mkdir(mode=0o755, parents=True)
        created = True
    try:
        yield
    finally:
        if created:
            run_sshd.rmdir()


@pytest.fixture
def host() -> Iterator[Host]:
    sshd = require_binary("sshd", "/usr/sbin")
    keygen = require_binary("ssh-keygen")
    with _privsep_dir(), short_tmpdir() as d:
        port = free_port()
        for key in ("host_ed25519", "client_ed25519"):
            subprocess.run(
                [keygen, "-q", "-t", "ed25519", "-N", "", "-f", str(d / key)], check=True
            )
        (d / "authorized_keys").write_text((d / "client_ed25519.pub").read_text())
        host_pub = (d / "host_ed25519.pub").read_text().split()
        (d / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_pub[0]} {host_pub[1]}\n")
        (d / "sshd_config").write_text(SSHD_CONFIG.format(port=port, d=d))
        bin_dir = d / "bin"
        bin_dir.mkdir()
        systemctl = bin_dir / "systemctl"
        systemctl.write_text(FAKE_SYSTEMCTL.format(d=d))
        systemctl.chmod(systemctl.stat().st_mode | stat.S_IXUSR)
        (d / "markers").mkdir()
        log = d / "sshd.log"
        with running([sshd, "-D", "-e", "-f", str(d / "sshd_config")], log=log) as proc:
            wait_until(
                lambda: port_open(port), timeout_s=10, what="sshd to listen", proc=proc, log=log
            )
            runner = AsyncsshRunner(
                host="127.0.0.1",
                port=port,
                username=getpass.getuser(),
                client_keys=[d / "client_ed25519"],
                known_hosts=d / "known_hosts",
            )
            yield Host(d, runner)


def _commands(d: Path) -> dict[str, CommandSpec]:
    return {
        "restart": CommandSpec(argv=[str(d / "bin/systemctl"), "restart", "{target}"]),
        "touch_marker": CommandSpec(
            argv=["touch", f"{d}/markers/{{target}}-{{release}}"],
            params={"release": "version"},
            check=["test", "-e", f"{d}/markers/{{target}}-{{release}}"],
        ),
        "echo": CommandSpec(argv=["printf", "%s", "{msg}"], params={"msg": "text"}),
        "fail": CommandSpec(argv=["sh", "-c", "exit 3"], retryable_exit_codes=frozenset({3})),
        "refuse": CommandSpec(argv=["false"]),
    }


def test_restart_a_service_by_name_runs_exactly_once_per_key(host: Host) -> None:
    ex = SshExecutor(runner=host.runner, commands=_commands(host.d))
    step = StepRequest(action="restart", target="nginx", timeout_s=20)
    assert ex.execute(step, key="r1").changed
    assert not ex.execute(step, key="r1").changed
    assert ex.execute(step, key="r1", dry_run=True).message.endswith("restart nginx")
    assert (host.d / "systemctl.log").read_text() == "restart nginx\n"


def test_check_command_makes_a_new_key_a_no_op(host: Host) -> None:
    ex = SshExecutor(runner=host.runner, commands=_commands(host.d))
    step = StepRequest(action="touch_marker", target="web", params={"release": "1.2.3"})
    assert ex.execute(step, key="t1").changed
    assert (host.d / "markers" / "web-1.2.3").exists()
    assert not ex.execute(step, key="t2").changed


def test_hostile_text_reaches_the_remote_program_as_one_literal_argument(host: Host) -> None:
    ex = SshExecutor(runner=host.runner, commands=_commands(host.d))
    hostile = "$(id) `id` ; rm -rf / | cat && echo {{ 7*7 }} {% x %} ../../etc/passwd 'q\""
    r = ex.execute(StepRequest(action="echo", target="x", params={"msg": hostile}), key="e")
    assert r.message == hostile
    with pytest.raises(InvalidParameter):
        ex.execute(StepRequest(action="restart", target="nginx; touch /tmp/pwned"), key="p")
    assert not os.path.exists("/tmp/pwned")


def test_failures_say_whether_retryable(host: Host) -> None:
    ex = SshExecutor(runner=host.runner, commands=_commands(host.d))
    with pytest.raises(ActionError) as err:
        ex.execute(StepRequest(action="fail", target="x"), key="f")
    assert err.value.retryable and "exited 3" in str(err.value)
    with pytest.raises(ActionError) as err:
        ex.execute(StepRequest(action="refuse", target="x"), key="g")
    assert not err.value.retryable
    nobody = AsyncsshRunner(
        host="127.0.0.1",
        port=free_port(),
        username="root",
        client_keys=[host.d / "client_ed25519"],
        known_hosts=host.d / "known_hosts",
    )
    with pytest.raises(ActionError) as err:
        SshExecutor(runner=nobody).execute(
            StepRequest(action="restart", target="x", timeout_s=5), key="h"
        )
    assert err.value.retryable
    stranger = AsyncsshRunner(
        host="127.0.0.1",
        port=host.runner.port,
        username="nobody",
        client_keys=[host.d / "client_ed25519"],
        known_hosts=host.d / "known_hosts",
    )
    with pytest.raises(ActionError) as err:
        SshExecutor(runner=stranger).execute(
            StepRequest(action="restart", target="x", timeout_s=10), key="i"
        )
    assert not err.value.retryable and "refused" in str(err.value)
