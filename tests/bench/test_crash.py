"""The crash test as CI runs it: a real engine process, really killed with SIGKILL."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from healops.bench.crash import run_crash_bench


@pytest.mark.slow
def test_healops_bench_crash_kills_the_engine_and_nothing_is_duplicated_or_lost() -> None:
    out = subprocess.run([sys.executable, "-m", "healops", "bench", "crash", "--runs", "12",
                          "--seed", "2", "--json"], capture_output=True, text=True,
                         timeout=600, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    report = json.loads(out.stdout)
    assert report["runs"] == 12
    assert report["kills"] > 0 and report["kills_between_intent_and_result"] > 0
    assert report["duplicate_executions"] == 0
    assert report["lost_incidents"] == 0
    assert report["unreconciled"] == 0
    # Restarts found intents without results and settled them by looking at the estate.
    assert report["reconciled_applied"] + report["reconciled_rerun"] > 0
    assert report["executions"] >= 8  # the engine did heal, restarts notwithstanding


@pytest.mark.slow
def test_kills_land_where_the_seed_says_and_the_store_is_left_clean(tmp_path: Path) -> None:
    report = run_crash_bench(8, seed=4, workdir=tmp_path)
    assert report.kills > 0
    assert (report.duplicate_executions, report.lost_incidents, report.unreconciled) == (0, 0, 0)
    assert report.open_at_end == 0  # every incident ended resolved, none stuck in flight
    assert len(list(tmp_path.glob("child-*.log"))) >= report.kills + 1  # a process per life
