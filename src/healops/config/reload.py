"""Reloading the configuration of a running healops: what may change live, and what not.

The policy, the runbooks and the ITSM rules are data that the loop reads afresh at every
decision, so a new version can replace the old between two ticks. The topology, the
detection rules, correlation, diagnosis settings and the store hold learned state (baselines,
open groups, connections); changing them live would silently reset or mix that state, so a
reload that touches them is refused as a whole and names the paths that need a restart.

>>> from healops.config.load import default_config
>>> old = default_config()
>>> new = old.model_copy(update={"policy": old.policy.model_copy(update={"mode": "shadow"})})
>>> plan = plan_reload(old, new)
>>> plan.changed, plan.needs_restart
(['policy.mode'], [])
>>> apply_reload(old, new).policy.mode
'shadow'
"""

from __future__ import annotations

from dataclasses import dataclass

from healops.config.models import HealopsConfig
from healops.itsm.audit import changed_paths

__all__ = ["RELOADABLE", "ReloadPlan", "ReloadRefused", "apply_reload", "plan_reload"]

RELOADABLE: tuple[str, ...] = ("policy", "runbooks", "itsm")


class ReloadRefused(ValueError):
    """The new configuration changes something that only a restart may change."""

    def __init__(self, paths: list[str]) -> None:
        self.paths = paths
        shown = ", ".join(paths[:10]) + (f" and {len(paths) - 10} more" if len(paths) > 10
                                          else "")
        super().__init__(
            f"not reloaded: {shown} can only change with a restart (a live reload may "
            f"change {', '.join(RELOADABLE)}); restart healops to apply them, or revert them "
            "in the file to reload the rest")


@dataclass(frozen=True, slots=True)
class ReloadPlan:
    changed: list[str]  # dotted paths whose values differ
    needs_restart: list[str]  # the subset outside RELOADABLE

    @property
    def empty(self) -> bool:
        return not self.changed


def plan_reload(old: HealopsConfig, new: HealopsConfig) -> ReloadPlan:
    changed = changed_paths(old, new)
    restart = [p for p in changed if p.split(".", 1)[0] not in RELOADABLE]
    return ReloadPlan(changed=changed, needs_restart=restart)


def apply_reload(effective: HealopsConfig, new: HealopsConfig) -> HealopsConfig:
    """The running config with its reloadable sections taken from ``new``. The running
    config may differ from its file elsewhere (a ``--db`` URL, the lab's topology), which
    is why ``plan_reload`` compares file with file and this only merges."""
    return effective.model_copy(update={k: getattr(new, k) for k in RELOADABLE})
