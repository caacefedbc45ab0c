"""Scenario tests: the simulated estate against the whole loop, read as a timeline."""

from __future__ import annotations

from pathlib import Path

import pytest

from healops.config.load import ConfigError
from healops.lab.cli import simulate
from healops.lab.runner import run_scenario
from healops.lab.scenario import Scenario, load_scenario


def _run(entry: dict[str, object], n: int = 3, seed: int = 1, automated: bool = True):
    sc = Scenario.model_validate({"name": "t", "mix": [entry], "max_episode_s": 3600})
    return run_scenario(sc, seed=seed, incidents=n, automated=automated)


@pytest.mark.parametrize("fault", ["crashloop_after_deploy", "bad_deploy_errors", "disk_filling",
                                   "cert_expiring", "memory_leak", "traffic_surge",
                                   "bad_replica"])
def test_runbook_classes_are_healed_by_the_engine_without_harm(fault: str) -> None:
    res = _run({"fault": fault})
    for ep in res.episodes:
        assert [f.cured_by for f in ep.faults] == ["engine"], ep
        assert not any(a[3] for a in ep.actions), ep.actions
        assert ep.pages == 0
        assert all((f.cured_at or 1e9) - f.injected_at <= 300 for f in ep.faults)


@pytest.mark.parametrize("fault", ["security_anomaly", "no_runbook"])
def test_must_escalate_classes_are_escalated_with_the_whole_story(fault: str) -> None:
    res = _run({"fault": fault}, n=2)
    for ep in res.episodes:
        assert ep.actions == []
        assert ep.escalated[0] and ep.escalation_complete[0]
        assert ep.faults[0].cured_by == "human"


def test_slow_dependency_waits_for_approval_then_fails_over() -> None:
    res = _run({"fault": "slow_dependency"}, n=2)
    for ep in res.episodes:
        assert [a[0] for a in ep.actions] == ["failover"]
        assert ep.manual == 1 and ep.pages == 1  # one approval, no manual fix


def test_flapping_noise_causes_no_action_and_no_page() -> None:
    res = _run({"fault": "flapping_noise"}, n=4)
    for ep in res.episodes:
        assert ep.actions == [] and ep.pages == 0


def test_two_unrelated_faults_are_both_healed() -> None:
    res = _run({"pair": ["bad_deploy_errors", "cert_expiring"]}, n=2)
    for ep in res.episodes:
        assert sorted(f.cured_by for f in ep.faults) == ["engine", "engine"]
        assert {a[0] for a in ep.actions} == {"rollback", "renew_cert"}


def test_a_wrong_action_on_a_healthy_service_counts_as_harmful() -> None:
    from healops.act.base import StepRequest
    from healops.lab.estate import Estate
    from healops.lab.executor import SimExecutor

    seen: list[tuple[str, str]] = []
    estate = Estate(seed=3)
    ex = SimExecutor(estate, lambda: 100.0, lambda a, t, n: seen.append((a, t)))
    before = estate.services["db"].instances[0].restarts
    ex.execute(StepRequest("restart", "db"), key="k1")
    batch, _ = estate.tick(101.0)
    up = dict(zip(batch.keys, batch.values, strict=True))
    assert estate.services["db"].instances[0].restarts == before + 1
    assert estate.services["db"].degraded  # restarting a healthy database is an outage
    assert any(k.name == "up" and k.service == "db" and v == 0.0 for k, v in up.items())


def test_the_baseline_pages_a_human_for_every_incident() -> None:
    res = _run({"fault": "bad_deploy_errors"}, n=2, automated=False)
    for ep in res.episodes:
        assert ep.actions == [] and ep.pages >= 1
        assert ep.faults[0].cured_by == "human"


def test_simulate_reports_reductions_against_the_baseline() -> None:
    out = simulate("standard", seed=2, incidents=12)
    assert out["incidents"] == 12
    red = out["reduction"]
    assert isinstance(red, dict) and red["downtime_pct"] is not None
    assert red["downtime_pct"] > 50
    healops = out["healops"]
    assert isinstance(healops, dict) and healops["overall"]["harmful_actions"] == 0


def test_the_baseline_in_its_own_process_gives_the_same_scoreboard() -> None:
    two = simulate("standard", seed=3, incidents=3, jobs=2)
    one = simulate("standard", seed=3, incidents=3, jobs=1)
    assert two["baseline"] == one["baseline"] and two["healops"] == one["healops"]


def test_incidents_arrive_hours_apart_like_a_real_estate() -> None:
    sc = Scenario.model_validate({"name": "t", "mix": [{"fault": "bad_deploy_errors"}],
                                  "quiet_s": 3600, "gap_s": 120})
    res = run_scenario(sc, seed=1, incidents=3, automated=True)
    starts = [ep.started for ep in res.episodes]
    assert all(b - a >= 3600 + 120 for a, b in zip(starts, starts[1:], strict=False))


def test_a_malformed_scenario_names_the_file_the_field_and_the_fix(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nmix:\n  - {fault: disk_fillin}\n"
                   "  - {fault: cert_expiring, wieght: 2}\n")
    with pytest.raises(ConfigError) as err:
        load_scenario(str(bad))
    msg = str(err.value)
    assert str(bad) in msg and "mix.0" in msg and "disk_filling" in msg
    assert "mix.1.wieght" in msg and "unknown field" in msg
    with pytest.raises(ConfigError, match="no scenario 'nope'"):
        load_scenario("nope")
