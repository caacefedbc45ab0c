from __future__ import annotations

import importlib

import pytest

MODULES = ["healops.itsm.audit", "healops.itsm.changes", "healops.itsm.cli",
           "healops.itsm.incidents", "healops.itsm.oncall", "healops.itsm.postmortem",
           "healops.itsm.priority", "healops.itsm.problems", "healops.itsm.recorder",
           "healops.itsm.sla", "healops.itsm.notify", "healops.config.itsm",
           "healops.store.itsm_repo", "healops.store.itsm_tables"]


@pytest.mark.parametrize("name", MODULES)
def test_every_exported_name_exists(name: str) -> None:
    mod = importlib.import_module(name)
    assert mod.__all__ and all(hasattr(mod, n) for n in mod.__all__)
