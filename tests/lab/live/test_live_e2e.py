"""End to end, in real time: the live estate breaks and healops heals it.

Real processes, real sockets, real files, a real certificate and (when installed) a real
HAProxy. The timeline: about 10 s of normal traffic, then the crash loop, the certificate,
the bad deploy, the disk fill, the bad replica and the security anomaly, one after another.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

import pytest

from healops.lab.live.driver import FaultRun, LiveLab
from healops.lab.live.haproxy import find_haproxy

pytestmark = pytest.mark.integration

HEALED = ("crash_loop", "cert_expiry", "bad_deploy", "disk_fill", "bad_replica")


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmdline = Path("/proc", pid, "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if text.encode() in cmdline:
            found.append(int(pid))
    return found


@pytest.fixture(scope="module")
def finished_lab(tmp_path_factory: pytest.TempPathFactory) -> tuple[LiveLab, float]:
    if find_haproxy() is None:
        reason = "haproxy is not installed (apt-get install haproxy); the lab runs without it"
        if os.environ.get("CI"):
            pytest.fail(f"CI is set and {reason}")
    root = tmp_path_factory.mktemp("live")
    lab = LiveLab(root, base_rps=3.0, seed=7)
    t0 = time.monotonic()
    try:
        lab.start()
        lab.run(170.0, schedule=[*HEALED, "security_anomaly"], warmup_s=10.0, gap_s=2.0,
                stop_when_done=True)
    finally:
        lab.close()
    return lab, time.monotonic() - t0


def _run(lab: LiveLab, name: str) -> FaultRun:
    runs = [r for r in lab.runs if r.fault.name == name]
    assert runs, f"{name} was never injected: {lab.summary()}"
    return runs[0]


@pytest.mark.parametrize("name", HEALED)
def test_each_fault_is_healed(finished_lab: tuple[LiveLab, float], name: str) -> None:
    lab, _ = finished_lab
    run = _run(lab, name)
    assert run.outcome() == "healed", run.summary()
    assert run.detected_at is not None and run.recovered_at is not None


def test_median_time_from_injection_to_healthy_is_at_most_30_s(
        finished_lab: tuple[LiveLab, float]) -> None:
    lab, _ = finished_lab
    times = [_run(lab, n).recovered_at - _run(lab, n).fault.injected_at  # type: ignore[operator]
             for n in HEALED if _run(lab, n).recovered_at is not None]
    assert len(times) == len(HEALED), lab.summary()
    assert statistics.median(times) <= 30.0, times


def test_the_security_anomaly_is_escalated_with_its_context_and_never_acted_on(
        finished_lab: tuple[LiveLab, float]) -> None:
    lab, _ = finished_lab
    run = _run(lab, "security_anomaly")
    assert run.outcome() == "escalated", run.summary()
    assert run.escalation is not None and run.escalation.complete
    assert any("203.0.113.77" in e for e in run.escalation.evidence)
    assert run.actions == []


def test_no_action_touches_a_healthy_service(finished_lab: tuple[LiveLab, float]) -> None:
    lab, _ = finished_lab
    assert lab.executor.log, "healops took no action at all"
    for a in lab.executor.log:
        broken = {r.fault.service for r in lab.runs
                  if r.fault.injected_at <= a.ts <= (r.ended_at or a.ts)}
        assert a.service in broken, f"{a.action} {a.target} at a time only {broken} was broken"


def test_the_bad_replica_is_drained_through_haproxy_when_it_runs(
        finished_lab: tuple[LiveLab, float]) -> None:
    lab, _ = finished_lab
    actions = [a.action for a in _run(lab, "bad_replica").actions]
    if lab.haproxy_exec is None:
        assert actions[-1] == "replace"
    else:
        assert actions[:2] == ["drain", "replace"]


def test_every_process_and_file_the_lab_created_is_gone(
        finished_lab: tuple[LiveLab, float]) -> None:
    lab, _ = finished_lab
    assert not lab.estate.dir.exists()
    assert _processes_mentioning(str(lab.estate.dir)) == []
    assert lab.estate.supervisor is None and lab.estate.haproxy is None


def test_the_whole_run_fits_the_ci_budget(finished_lab: tuple[LiveLab, float]) -> None:
    _, wall = finished_lab
    assert wall < 180.0


def test_a_real_prometheus_and_alertmanager_watch_the_lab_when_installed(
        finished_lab: tuple[LiveLab, float]) -> None:
    lab, _ = finished_lab
    if lab.monitoring is None or lab.monitoring.prometheus is None \
            or lab.monitoring.alertmanager is None:
        if os.environ.get("CI"):
            pytest.fail("CI is set and Prometheus or Alertmanager is not installed")
        pytest.skip("Prometheus or Alertmanager is not installed; the lab runs without them")
    alerted = [r.fault.name for r in lab.runs if r.alerted_at is not None]
    assert alerted, f"Alertmanager sent no notification about any fault: {lab.summary()}"
    assert all(r.alerted_at >= r.fault.injected_at - 1 for r in lab.runs  # type: ignore[operator]
               if r.alerted_at is not None)
