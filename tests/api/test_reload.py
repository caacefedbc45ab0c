"""Reloading the config of a served healops: policy and runbooks change between two ticks,
the change is audited, and a bad or restart-only file changes nothing."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.api._app import Client

from healops.api.app import create_app
from healops.api.tokens import Role
from healops.api.wiring import build_lab_runtime
from healops.config.load import load_config
from healops.runtime import ConfigReloader


def _defaults() -> dict[str, Any]:
    text = resources.files("healops.config").joinpath("defaults.yaml").read_text()
    data: dict[str, Any] = yaml.safe_load(text)
    return data


class Served:
    def __init__(self, path: Path, *, with_file: bool = True) -> None:
        self.path = path
        path.write_text(yaml.safe_dump(_defaults()))
        self.lab = build_lab_runtime(seed=3, config=load_config(path))
        self.lab.runtime.run_until(lambda: False, max_ticks=5)
        reloader = (ConfigReloader(self.lab.runtime, path, load_config(path))
                    if with_file else None)
        self.app = create_app(self.lab.runtime, config=self.lab.engine.config,
                              db=self.lab.store.engine, reloader=reloader)
        self.tokens = {r: self.app.state.tokens.create(role=r, name=f"{r}-user", now=0.0).token
                       for r in Role}

    def edit(self, change: dict[str, Any]) -> None:
        data = _defaults()
        for dotted, value in change.items():
            *parents, leaf = dotted.split(".")
            node = data
            for p in parents:
                node = node.setdefault(p, {})
            node[leaf] = value
        self.path.write_text(yaml.safe_dump(data))

    def reload(self, role: Role = Role.ADMIN) -> Any:
        return Client(self.app).post("/api/v1/config/reload",
                                     headers={"Authorization": f"Bearer {self.tokens[role]}"})

    def get(self, path: str) -> Any:
        r = Client(self.app).get(path, headers={
            "Authorization": f"Bearer {self.tokens[Role.ADMIN]}"})
        assert r.status_code == 200, r.text
        return r.json()


@pytest.fixture
def served(tmp_path: Path) -> Served:
    return Served(tmp_path / "healops.yaml")


def test_a_policy_change_applies_at_once_and_is_audited(served: Served) -> None:
    assert served.get("/api/v1/policies")["mode"] == "auto"
    served.edit({"policy.mode": "shadow", "policy.per_target.count": 1})
    r = served.reload()
    assert r.status_code == 200, r.text
    assert sorted(r.json()["changed"]) == ["policy.mode", "policy.per_target.count"]
    assert served.lab.engine.policy.config.mode == "shadow"  # type: ignore[attr-defined]
    assert served.get("/api/v1/policies")["mode"] == "shadow"
    entries = [e for e in served.get("/api/v1/audit") if e["kind"] == "config"]
    assert len(entries) == 1 and entries[0]["actor"] == "admin-user"
    assert sorted(entries[0]["data"]["changed"]) == ["policy.mode", "policy.per_target.count"]
    assert served.get("/api/v1/audit/verify")["ok"] is True
    # The same file again changes nothing and audits nothing.
    again = served.reload()
    assert again.status_code == 200 and again.json()["changed"] == []
    assert len([e for e in served.get("/api/v1/audit") if e["kind"] == "config"]) == 1


def test_a_runbook_removed_from_the_file_is_gone_from_the_engine(served: Served) -> None:
    names = [rb["name"] for rb in _defaults()["runbooks"]]
    served.edit({"runbooks": [rb for rb in _defaults()["runbooks"] if rb["name"] != names[0]]})
    r = served.reload()
    assert r.status_code == 200, r.text
    assert names[0] not in {rb.name for rb in served.lab.engine.config.runbooks}
    assert names[0] not in {rb["name"] for rb in served.get("/api/v1/runbooks")}


def test_an_invalid_file_is_refused_with_the_field_and_nothing_changes(served: Served) -> None:
    served.edit({"policy.mode": "shadow", "policy.bogus": 1})
    r = served.reload()
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["error"] == "invalid_config" and "policy.bogus" in body["message"]
    assert served.lab.engine.config.policy.mode == "auto"
    assert [e for e in served.get("/api/v1/audit") if e["kind"] == "config"] == []


def test_a_restart_only_change_is_refused_whole(served: Served) -> None:
    served.edit({"policy.mode": "shadow", "detection.warmup_s": 1.0})
    r = served.reload()
    assert r.status_code == 409, r.text
    assert r.json()["error"] == "restart_required"
    assert "detection.warmup_s" in r.json()["message"]
    assert served.lab.engine.config.policy.mode == "auto"  # the policy part did not apply


def test_only_admins_reload(served: Served) -> None:
    served.edit({"policy.mode": "shadow"})
    for role in (Role.VIEWER, Role.OPERATOR, Role.APPROVER):
        assert served.reload(role).status_code == 403
    assert served.lab.engine.config.policy.mode == "auto"


def test_a_server_started_without_a_file_says_so(tmp_path: Path) -> None:
    served = Served(tmp_path / "unused.yaml", with_file=False)
    r = served.reload()
    assert r.status_code == 409 and r.json()["error"] == "no_config_file"
