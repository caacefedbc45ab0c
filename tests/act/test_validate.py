"""The validators and the idempotency ledger."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from healops.act import validate
from healops.act.base import StepRequest
from healops.act.validate import IdempotencyLedger, InvalidParameter
from healops.domain.actions import ActionResult


@pytest.mark.parametrize("good", ["web", "web-1", "db_2.prod", "A1"])
def test_names_accepted(good: str) -> None:
    assert validate.name(good) == good


@pytest.mark.parametrize("bad", ["", ".", "..", "-x", "a b", "a/b", "a" * 64, 7, None, "é"])
def test_names_rejected(bad: object) -> None:
    with pytest.raises(InvalidParameter) as err:
        validate.name(bad)
    assert err.value.retryable is False


@pytest.mark.parametrize(("value", "ok"), [
    ("1.2.3", True), ("v2.0.0-rc.1+b7", True), ("1.2;id", False), ("", False), ("-1", False)])
def test_versions(value: str, ok: bool) -> None:
    if ok:
        assert validate.version(value) == value
    else:
        with pytest.raises(InvalidParameter):
            validate.version(value)


@pytest.mark.parametrize(("value", "ok"), [
    ("db-1.example.org", True), ("127.0.0.1", True), ("-bad.org", False),
    ("a..b", False), ("x" * 64 + ".org", False), ("host name", False)])
def test_hostnames(value: str, ok: bool) -> None:
    if ok:
        assert validate.hostname(value) == value
    else:
        with pytest.raises(InvalidParameter):
            validate.hostname(value)


@pytest.mark.parametrize("bad", [True, 1.5, "1e3", "", "0x10", 99, -1, None])
def test_integers_are_strict(bad: object) -> None:
    with pytest.raises(InvalidParameter):
        validate.integer(bad, field="n", low=0, high=10)


def test_numbers_must_be_finite_and_in_range() -> None:
    assert validate.number(2, field="t", low=0, high=5) == 2.0
    for bad in (float("nan"), float("inf"), 6, "3", True):
        with pytest.raises(InvalidParameter):
            validate.number(bad, field="t", low=0, high=5)


def test_paths_under_root(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "in").symlink_to(tmp_path / "a")
    assert validate.path_under(tmp_path, "a/in") == (tmp_path / "a").resolve()
    for bad in ("", "/etc", "a/../../x", "..", "a\x00", "a\nb", "~root", "x" * 2000):
        with pytest.raises(InvalidParameter):
            validate.path_under(tmp_path, bad)


def test_ledger_runs_an_action_once_even_under_concurrency() -> None:
    ledger = IdempotencyLedger()
    calls = []
    step = StepRequest(action="restart", target="web")

    def action() -> ActionResult:
        calls.append(1)
        time.sleep(0.05)
        return ActionResult(ok=True)

    results: list[ActionResult] = []
    threads = [threading.Thread(target=lambda: results.append(ledger.apply("k", step, action)))
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert sorted(r.changed for r in results) == [False] * 7 + [True]


def test_ledger_forgets_failures_and_refuses_a_key_reused_for_another_step() -> None:
    ledger = IdempotencyLedger()
    step = StepRequest(action="restart", target="web")
    assert not ledger.apply("k", step, lambda: ActionResult(ok=False)).ok
    assert "k" not in ledger
    assert ledger.apply("k", step, lambda: ActionResult(ok=True)).changed
    with pytest.raises(InvalidParameter, match="different step"):
        ledger.apply("k", StepRequest(action="stop", target="web"), lambda: ActionResult(ok=True))
