"""LocalSupervisor and LocalExecutor against real child processes."""

from __future__ import annotations

import gzip
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from healops.act.base import ActionError, StepRequest
from healops.act.local import LocalExecutor, LocalSupervisor, ServiceSpec
from healops.act.validate import InvalidParameter
from healops.clock import SimClock

SLEEP = [sys.executable, "-c", "import time; time.sleep(120)"]
CRASH = [sys.executable, "-c", "raise SystemExit(3)"]


def _spec(**kw: object) -> ServiceSpec:
    args: dict[str, object] = {
        "name": "web",
        "versions": {"1.0": SLEEP, "1.1": SLEEP, "bad": CRASH},
        "version": "1.0",
        "replicas": 2,
        "stop_timeout_s": 2.0,
    }
    args.update(kw)
    return ServiceSpec(**args)  # type: ignore[arg-type]


@pytest.fixture
def sup() -> Iterator[LocalSupervisor]:
    with LocalSupervisor([_spec()], settle_s=0.05) as s:
        yield s


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers kill(0); the supervisor reaps, so this means really alive
    return True


def test_start_stop_and_close_kill_everything(sup: LocalSupervisor) -> None:
    assert sup.start("web") is True
    assert sup.start("web") is False
    pids = sup.status("web").pids
    assert len(pids) == 2 and all(_alive(p) for p in pids)
    assert sup.stop("web") is True
    assert not any(_alive(p) for p in pids)
    assert sup.stop("web") is False
    sup.start("web")
    pids = sup.status("web").pids
    sup.close()
    assert not any(_alive(p) for p in pids)


def test_processes_run_in_their_own_process_group(sup: LocalSupervisor) -> None:
    sup.start("web")
    for pid in sup.status("web").pids:
        assert os.getpgid(pid) == pid != os.getpgid(0)


def test_restart_rolling_scale_deploy_rollback(sup: LocalSupervisor) -> None:
    sup.start("web")
    before = set(sup.status("web").pids)
    sup.rolling_restart("web")
    st = sup.status("web")
    assert st.alive == 2 and not before & set(st.pids) and st.restarts == 1
    assert sup.scale("web", 3) and sup.status("web").alive == 3
    assert not sup.scale("web", 3)
    assert sup.scale("web", 1) and sup.status("web").alive == 1
    assert sup.deploy("web", "1.1") and sup.status("web").version == "1.1"
    assert not sup.deploy("web", "1.1")
    assert sup.rollback("web") == "1.0"
    st = sup.status("web")
    assert (st.version, st.previous_version, st.alive) == ("1.0", "1.1", 1)


def test_deploy_of_a_crashing_version_fails_retryable_and_keeps_the_old_one(
    sup: LocalSupervisor,
) -> None:
    sup.start("web")
    with pytest.raises(ActionError) as err:
        sup.deploy("web", "bad")
    assert err.value.retryable and "exited with code 3" in str(err.value)
    assert sup.status("web").version == "1.0"


def test_supervise_replaces_dead_replicas_and_counts_restarts(sup: LocalSupervisor) -> None:
    sup.start("web")
    victim = sup.status("web").pids[0]
    os.kill(victim, 9)
    for _ in range(500):  # the supervisor, not the test, reaps the dead replica
        if sup.supervise():
            break
        time.sleep(0.01)
    st = sup.status("web")
    assert st.alive == 2 and victim not in st.pids and st.restarts == 1


def test_stop_process_only_for_own_pids(sup: LocalSupervisor) -> None:
    sup.start("web")
    pid = sup.status("web").pids[1]
    sup.stop_process("web", pid)
    assert pid not in sup.status("web").pids and sup.status("web").alive == 2
    with pytest.raises(InvalidParameter):
        sup.stop_process("web", os.getpid())


def test_version_argv_is_never_a_shell_string() -> None:
    with pytest.raises(ValueError, match="list of str"):
        ServiceSpec(name="x", versions={"1": "sleep 1; rm -rf /"}, version="1")  # type: ignore[dict-item]


def test_executor_actions_and_idempotency(sup: LocalSupervisor) -> None:
    ex = LocalExecutor(sup, clock=SimClock())
    r = ex.execute(StepRequest(action="start", target="web"), key="a")
    assert r.ok and r.changed
    r = ex.execute(StepRequest(action="scale_out", target="web", params={"by": 2}), key="b")
    assert sup.status("web").alive == 4
    again = ex.execute(StepRequest(action="scale_out", target="web", params={"by": 2}), key="b")
    assert not again.changed and sup.status("web").alive == 4
    ex.execute(StepRequest(action="scale_in", target="web", params={"by": 3}), key="c")
    assert sup.status("web").alive == 1
    dry = ex.execute(StepRequest(action="stop", target="web"), key="d", dry_run=True)
    assert not dry.changed and sup.status("web").alive == 1
    with pytest.raises(InvalidParameter, match="no previous version"):
        ex.execute(StepRequest(action="rollback", target="web"), key="e")


def test_clean_disk_delete_and_compress(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    (logs / "sub").mkdir(parents=True)
    old, new, nested = logs / "old.log", logs / "new.log", logs / "sub" / "old.txt"
    for f in (old, new, nested):
        f.write_text("data\n" * 10)
    for f in (old, nested):
        os.utime(f, (1000.0, 1000.0))
    outside = tmp_path / "precious"
    outside.write_text("keep")
    os.utime(outside, (1000.0, 1000.0))
    (logs / "link").symlink_to(outside)
    (logs / "dirlink").symlink_to(tmp_path)
    clock = SimClock(start=1_000_000.0)
    with LocalSupervisor([]) as s:
        ex = LocalExecutor(s, clock=clock, disk_roots={"logs": logs})
        step = StepRequest(action="clean_disk", target="logs",
                           params={"older_than_s": 3600, "mode": "compress", "suffix": ".log"})
        assert "1 file(s)" in ex.execute(step, key="x", dry_run=True).message
        assert old.exists()
        r = ex.execute(step, key="x")
        assert r.changed and not old.exists()
        assert gzip.decompress((logs / "old.log.gz").read_bytes()) == b"data\n" * 10
        again = ex.execute(StepRequest(action="clean_disk", target="logs", params=step.params),
                           key="y")
        assert not again.changed
        ex.execute(StepRequest(action="clean_disk", target="logs",
                               params={"older_than_s": 3600, "mode": "delete",
                                       "subdir": "sub"}), key="z")
        assert not nested.exists() and new.exists() and outside.read_text() == "keep"
        with pytest.raises(InvalidParameter, match="outside"):
            ex.execute(StepRequest(action="clean_disk", target="logs",
                                   params={"older_than_s": 1, "subdir": "dirlink"}), key="w")
