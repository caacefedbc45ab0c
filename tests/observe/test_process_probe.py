from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from healops.observe.process_probe import ProcessSource, ProcessTarget, read_pid


def by_name(samples: list) -> dict[str, float]:  # type: ignore[type-arg]
    return {s.key.name: s.value for s in samples}


class FakeProc:
    """A directory laid out like /proc, with just the files the probe reads."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(exist_ok=True)
        (root / "stat").write_text("cpu 1 2 3\nbtime 1767225600\n")

    def run(self, pid: int, start_ticks: int, state: str = "S") -> None:
        (self.root / str(pid)).mkdir(exist_ok=True)
        rest = " ".join(["0"] * 18)
        (self.root / str(pid) / "stat").write_text(
            f"{pid} (my (odd) name) {state} {rest} {start_ticks} 0 0\n"
        )

    def kill(self, pid: int) -> None:
        (self.root / str(pid) / "stat").unlink()


def test_restarts_are_counted_from_pid_file_changes(tmp_path: Path) -> None:
    proc = FakeProc(tmp_path / "proc")
    pid_file = tmp_path / "app.pid"
    source = ProcessSource(
        [ProcessTarget("app", pid_file=str(pid_file), service="api")],
        proc_root=proc.root,
        clock_ticks=100,
    )
    # Timeline: no pid file; running as 100; dies; back as 200; same pid 200 restarted.
    assert by_name(source(now=0.0))["process_up"] == 0.0
    proc.run(100, start_ticks=500)
    pid_file.write_text("100\n")
    first = by_name(source(now=1.0))
    assert first["process_up"] == 1.0 and first["process_restarts_total"] == 0.0
    assert first["process_start_time_seconds"] == 1767225605.0
    proc.kill(100)
    assert by_name(source(now=2.0))["process_up"] == 0.0
    proc.run(200, start_ticks=900)
    pid_file.write_text("200")
    assert by_name(source(now=3.0))["process_restarts_total"] == 1.0
    assert by_name(source(now=4.0))["process_restarts_total"] == 1.0
    proc.run(200, start_ticks=950)
    assert by_name(source(now=5.0))["process_restarts_total"] == 2.0


def test_a_zombie_is_down(tmp_path: Path) -> None:
    proc = FakeProc(tmp_path)
    proc.run(7, start_ticks=1, state="Z")
    source = ProcessSource([ProcessTarget("z", pid=7)], proc_root=proc.root)
    assert by_name(source(now=0.0))["process_up"] == 0.0


def test_a_real_child_process_is_up_then_down(tmp_path: Path) -> None:
    if not Path("/proc/self/stat").exists():
        pytest.skip("no /proc on this system")
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        source = ProcessSource([ProcessTarget("child", pid=child.pid)])
        up = by_name(source(now=0.0))
        assert up["process_up"] == 1.0 and up["process_start_time_seconds"] > 0
    finally:
        child.kill()
        child.wait()
    assert by_name(source(now=1.0))["process_up"] == 0.0
    assert (
        by_name(ProcessSource([ProcessTarget("me", pid=os.getpid())])(now=0.0))["process_up"] == 1.0
    )


def test_pid_files_and_targets_are_validated(tmp_path: Path) -> None:
    (tmp_path / "bad.pid").write_text("abc")
    assert read_pid(str(tmp_path / "bad.pid")) is None
    assert read_pid(str(tmp_path / "missing.pid")) is None
    with pytest.raises(ValueError, match="exactly one"):
        ProcessTarget("x")
    with pytest.raises(ValueError, match="exactly one"):
        ProcessTarget("x", pid=1, pid_file="/run/x.pid")
