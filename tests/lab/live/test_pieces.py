"""Fast tests of the live lab's pieces: no estate, at most a sleeping child process."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from healops.act.base import ActionError, StepRequest
from healops.act.local import LocalExecutor, LocalSupervisor, ServiceSpec
from healops.clock import SimClock
from healops.config.load import default_config
from healops.config.models import DiagnosisConfig
from healops.diagnose.base import World
from healops.diagnose.symptoms import SymptomDiagnoser
from healops.domain.incidents import Incident
from healops.domain.signals import Anomaly, SeriesKey
from healops.lab import live
from healops.lab.live import cli as live_cli
from healops.lab.live.ca import DAY, CertIssuerExecutor, LabCA, cert_not_after
from healops.lab.live.diagnosis import TrailingSymptomDiagnoser
from healops.lab.live.estate import LiveEstate, free_port_block
from healops.lab.live.faults import FAULTS, make_fault
from healops.lab.live.loadgen import DailyShape
from healops.lab.live.report import final_table, median
from healops.lab.live.routing import LiveExecutor
from healops.lab.live.services import Service
from healops.lab.live.telemetry import histogram_quantile
from healops.observe.exposition import parse_exposition

NOW = 1_767_225_600.0


def test_public_api_is_explicit() -> None:
    assert sorted(live.__all__) == sorted(
        ["FAULTS", "SCHEDULE", "LiveLab", "live_config", "make_fault"])
    assert set(live.SCHEDULE) == set(FAULTS)


# ---- telemetry ---------------------------------------------------------------------------
def test_histogram_quantile_interpolates_inside_the_bucket() -> None:
    buckets = [(0.01, 0.0), (0.1, 90.0), (1.0, 100.0), (math.inf, 100.0)]
    assert histogram_quantile(0.5, buckets) == pytest.approx(0.06)
    assert histogram_quantile(0.99, buckets) == pytest.approx(0.91)


def test_histogram_quantile_of_nothing_is_nan() -> None:
    assert math.isnan(histogram_quantile(0.99, []))
    assert math.isnan(histogram_quantile(0.99, [(0.1, 0.0), (math.inf, 0.0)]))


def test_histogram_quantile_in_the_open_bucket_is_its_lower_bound() -> None:
    assert histogram_quantile(0.99, [(0.1, 1.0), (math.inf, 10.0)]) == 0.1


# ---- the service program -----------------------------------------------------------------
def _service(tmp_path: Path, **release: object) -> Service:
    spec = {"name": "api", "base_port": 1, "volume": str(tmp_path), "auth": True,
            "capacity_rps": 10}
    return Service(spec, {"version": "v1", **release}, replica=1)


def test_service_metrics_parse_as_prometheus_text(tmp_path: Path) -> None:
    svc = _service(tmp_path)
    svc.observe(200, 0.02, "/work")
    svc.observe(500, 0.3, "/work")
    svc.login({"password": "wrong", "source": "203.0.113.7"})
    exp = parse_exposition(svc.metrics())
    values = {(s.key.name, s.key.labels): s.value for s in exp.samples}
    assert values[("http_requests_total", (("code", "500"),))] == 1
    assert values[("http_request_duration_seconds_count", ())] == 2
    assert values[("auth_failed_logins_total", (("source", "203.0.113.7"),))] == 1
    assert exp.types["http_request_duration_seconds"] == "histogram"
    svc.access.close()


def test_service_writes_its_access_log_to_its_own_volume(tmp_path: Path) -> None:
    svc = _service(tmp_path)
    svc.observe(200, 0.01, "/work")
    svc.access.close()
    assert "api-1 /work 200" in (tmp_path / "api-1" / "logs" / "access.log").read_text()


def test_a_bad_release_and_an_injected_fault_both_fail_requests(tmp_path: Path) -> None:
    bad = _service(tmp_path, error_ratio=0.5)
    assert bad.error_ratio() == 0.5
    bad.access.close()
    svc = _service(tmp_path)
    svc.inject({"kind": "errors", "value": 1.0})
    assert svc.work() == 500
    svc.inject({"kind": "clear"})
    assert svc.work() == 200  # no dependencies, no fault
    with pytest.raises(ValueError, match="unknown fault"):
        svc.inject({"kind": "rm -rf"})
    svc.access.close()


# ---- the CA and the certificate executor -------------------------------------------------
def _issuer(tmp_path: Path, clock: SimClock) -> CertIssuerExecutor:
    ca = LabCA.create(tmp_path, now=clock.now())
    ca.issue("auth", tmp_path, valid_s=2 * DAY, now=clock.now())
    return CertIssuerExecutor(ca, tmp_path, {"auth"}, now=clock.now)


def test_renew_cert_replaces_an_expiring_certificate_once_per_key(tmp_path: Path) -> None:
    clock = SimClock(NOW)
    issuer = _issuer(tmp_path, clock)
    step = StepRequest("renew_cert", "auth")
    first = issuer.execute(step, key="k1")
    assert first.ok and first.changed
    assert cert_not_after(tmp_path / "auth.crt") - NOW == pytest.approx(90 * DAY, abs=1)
    assert not issuer.execute(step, key="k1").changed  # same key: not applied again
    assert not issuer.execute(step, key="k2").changed  # already fresh: nothing to do


def test_renew_cert_dry_run_changes_nothing(tmp_path: Path) -> None:
    issuer = _issuer(tmp_path, SimClock(NOW))
    before = (tmp_path / "auth.crt").read_bytes()
    assert not issuer.execute(StepRequest("renew_cert", "auth"), key="k", dry_run=True).changed
    assert (tmp_path / "auth.crt").read_bytes() == before


def test_renew_cert_refuses_a_service_without_a_lab_certificate(tmp_path: Path) -> None:
    issuer = _issuer(tmp_path, SimClock(NOW))
    with pytest.raises(ActionError) as err:
        issuer.execute(StepRequest("renew_cert", "db"), key="k")
    assert not err.value.retryable


# ---- routing -----------------------------------------------------------------------------
def _router(tmp_path: Path) -> tuple[LiveExecutor, LocalSupervisor]:
    spec = ServiceSpec(name="api", version="1", replicas=2,
                       versions={"1": [sys.executable, "-c", "import time; time.sleep(60)"]})
    sup = LocalSupervisor([spec], settle_s=0.05)
    (tmp_path / "vol" / "api-1" / "logs").mkdir(parents=True)
    clock = SimClock(NOW)
    local = LocalExecutor(sup, clock=clock, disk_roots={"api-1": tmp_path / "vol" / "api-1"})
    ca = LabCA.create(tmp_path, now=NOW)
    certs = CertIssuerExecutor(ca, tmp_path, set(), now=clock.now)
    pids: dict[str, int] = {}

    def pid_of(instance: str) -> int:
        return pids.get(instance, 0)

    router = LiveExecutor(local=local, certs=certs, haproxy=None, backends={"api": "api"},
                          pid_of=pid_of, now=clock.now)
    router.pids = pids  # type: ignore[attr-defined]
    return router, sup


def test_the_router_refuses_actions_it_has_no_executor_for(tmp_path: Path) -> None:
    router, sup = _router(tmp_path)
    with sup, pytest.raises(ActionError, match="no executor for 'failover'"):
        router.execute(StepRequest("failover", "db"), key="k")


def test_restart_of_an_instance_replaces_only_that_replica(tmp_path: Path) -> None:
    router, sup = _router(tmp_path)
    with sup:
        sup.start("api")
        before = sup.status("api").pids
        router.pids["api-1"] = before[1]  # type: ignore[attr-defined]
        result = router.execute(StepRequest("restart", "api-1"), key="k")
        after = sup.status("api").pids
        assert result.ok and after[0] == before[0] and after[1] != before[1]
        assert router.execute(StepRequest("restart", "api-1"), key="k").changed is False
        assert [(a.action, a.target, a.service) for a in router.log] == [
            ("restart", "api-1", "api"), ("restart", "api-1", "api")]


def test_drain_without_haproxy_fails_and_says_how_to_get_it(tmp_path: Path) -> None:
    router, sup = _router(tmp_path)
    with sup, pytest.raises(ActionError, match="install haproxy"):
        router.execute(StepRequest("drain", "api-1"), key="k")
    assert router.log[-1].ok is False


def test_clean_disk_deletes_old_logs_on_the_replica_volume(tmp_path: Path) -> None:
    import os

    router, sup = _router(tmp_path)
    old = tmp_path / "vol" / "api-1" / "logs" / "debug-1.log"
    old.write_bytes(b"x" * 1000)
    os.utime(old, (NOW - 60, NOW - 60))
    with sup:
        r = router.execute(StepRequest("clean_disk", "api-1", {
            "older_than_s": 1, "mode": "delete", "subdir": "logs", "suffix": ".log"}), key="k")
    assert r.ok and not old.exists()


def test_dry_run_through_the_router_changes_nothing(tmp_path: Path) -> None:
    router, sup = _router(tmp_path)
    with sup:
        sup.start("api")
        before = sup.status("api").pids
        assert not router.execute(StepRequest("rollback", "api"), key="k", dry_run=True).changed
        assert sup.status("api").pids == before
        assert router.log == []


# ---- config and diagnosis ----------------------------------------------------------------
def test_live_config_scales_windows_and_keeps_the_default_fault_patterns() -> None:
    from healops.lab.live.driver import live_config

    estate = LiveEstate.__new__(LiveEstate)
    from healops.lab.live.estate import SERVICES

    estate.services = {s.name: s for s in SERVICES}
    cfg = live_config(estate, haproxy=True)
    assert cfg.diagnosis.faults == default_config().diagnosis.faults
    assert cfg.diagnosis.settle_s <= 10
    assert max(s.verify_window_s for r in cfg.runbooks for s in r.steps) <= 10
    assert {s.name for s in cfg.topology.services} == {"api", "auth", "catalog", "orders", "db"}
    no_lb = live_config(estate, haproxy=False)
    steps = {r.name: [s.action for s in r.steps] for r in no_lb.runbooks}
    assert steps["replace-bad-replica"] == ["replace"]


def _anomaly(metric: str, service: str, kind: str, started: float, ts: float) -> Anomaly:
    key = SeriesKey.of(metric, service=service, instance=f"{service}-0")
    return Anomaly(key, kind, 0.9, 1.0, 0.0, started, ts)


def test_a_callers_trailing_errors_are_explained_by_a_callee_that_just_recovered() -> None:
    from healops.domain.topology import Service as TopoService
    from healops.domain.topology import Topology

    topo = Topology.build([TopoService("api", ("catalog",)), TopoService("catalog")])
    world = World(topo, instances={"api": frozenset({"api-0"}),
                                   "catalog": frozenset({"catalog-0"})})
    inc = Incident.open("INC-1", key="catalog:down", service="catalog", now=100.0)
    down = _anomaly("up", "catalog", "down", 100.0, 110.0)  # cleared at 110
    errors = _anomaly("error_ratio", "api", "errors", 112.0, 113.0)
    for a in (down, errors):
        inc.attach(a)
    inc.live = {errors.id}
    inner = SymptomDiagnoser(DiagnosisConfig(faults=default_config().diagnosis.faults))
    assert [c.component for c in inner(inc, world, 114.0).causes] == ["api"]
    wrapped = TrailingSymptomDiagnoser(inner)
    assert wrapped(inc, world, 114.0).causes == ()
    assert [c.component for c in wrapped(inc, world, 200.0).causes] == ["api"]  # long after


# ---- faults, load, report, CLI -----------------------------------------------------------
def test_every_fault_is_known_and_only_the_security_one_must_not_be_fixed() -> None:
    assert {f for f in FAULTS if make_fault(f).security} == {"security_anomaly"}
    with pytest.raises(ValueError, match="unknown fault"):
        make_fault("meteor")


def test_the_daily_shape_swings_around_the_base_rate() -> None:
    shape = DailyShape(base_rps=2.0, day_s=100.0, amplitude=0.5)
    rates = [shape.rate(t) for t in range(100)]
    assert min(rates) == pytest.approx(1.0, abs=0.01)
    assert max(rates) == pytest.approx(3.0, abs=0.01)


def test_final_table_reports_the_median_over_healed_faults() -> None:
    summary = {"faults": [
        {"fault": "crash_loop", "detected_s": 2.0, "recovery_s": 10.0, "actions": ["rollback"],
         "outcome": "healed"},
        {"fault": "disk_fill", "detected_s": 1.0, "recovery_s": 20.0, "actions": [],
         "outcome": "healed"},
        {"fault": "security_anomaly", "detected_s": 3.0, "recovery_s": None, "actions": [],
         "outcome": "escalated"}]}
    assert "15.0 s" in str(final_table(summary).caption)
    assert median([10.0, 20.0]) == 15.0


def test_free_port_block_is_free() -> None:
    import socket

    base = free_port_block(3)
    for p in range(base, base + 3):
        with socket.socket() as s:
            s.bind(("127.0.0.1", p))


def test_inject_without_a_running_demo_says_so(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live_cli, "pointer_path", lambda: tmp_path / "none.json")
    runner = CliRunner()
    res = runner.invoke(live_cli.app, ["inject", "crash_loop"])
    assert res.exit_code == 1 and "no demo is running" in res.output
    assert runner.invoke(live_cli.app, ["inject", "meteor"]).exit_code == 2


def test_inject_drops_the_fault_into_the_running_demos_inbox(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pointer = tmp_path / "demo.json"
    (tmp_path / "inbox").mkdir()
    pointer.write_text('{"inbox": "%s"}' % (tmp_path / "inbox"))
    monkeypatch.setattr(live_cli, "pointer_path", lambda: pointer)
    res = CliRunner().invoke(live_cli.app, ["inject", "disk_fill"])
    assert res.exit_code == 0, res.output
    assert [p.read_text().strip() for p in (tmp_path / "inbox").iterdir()] == ["disk_fill"]


def test_a_service_replica_does_not_import_the_engine() -> None:
    import subprocess

    code = ("import sys, healops.lab.live.services; "
            "print(sorted(m for m in ('healops.loop', 'numpy', 'sqlalchemy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
