"""Each module of the API, console and runtime says what it exports, and exports what it
defines publicly."""

from __future__ import annotations

import importlib
import inspect

import pytest

MODULES = ["healops.api.app", "healops.api.auth", "healops.api.cli", "healops.api.metrics",
           "healops.api.routes", "healops.api.schemas", "healops.api.tokens",
           "healops.api.views", "healops.api.wiring", "healops.web.console",
           "healops.web.pages", "healops.web.svg", "healops.runtime", "healops.store.queries"]


@pytest.mark.parametrize("name", MODULES)
def test_all_lists_exactly_the_public_definitions(name: str) -> None:
    mod = importlib.import_module(name)
    exported = set(mod.__all__)
    assert all(hasattr(mod, n) for n in exported)
    defined = {n for n, obj in vars(mod).items()
               if not n.startswith("_") and (inspect.isclass(obj) or inspect.isfunction(obj))
               and getattr(obj, "__module__", "") == name}
    assert defined <= exported, sorted(defined - exported)
