"""Process liveness and restarts, from a pid or a pid file, read through ``/proc``.

Each target yields ``process_up`` (1 when the pid exists and is not a zombie),
``process_restarts_total`` (how many times this source has seen the process come back as a
new process: a new pid, or the same pid with a new start time) and, when known,
``process_start_time_seconds``. Labels: ``process`` (the target's name) and ``service``.
``proc_root`` is injectable, so tests can lay out a fake ``/proc``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from healops.domain.signals import Sample, SeriesKey

__all__ = ["ProcessSource", "ProcessTarget", "read_pid"]

_DEAD_STATES = frozenset({"Z", "X", "x"})


@dataclass(frozen=True, slots=True)
class ProcessTarget:
    """Name a process by ``pid_file`` (read on every poll) or by a fixed ``pid``."""

    name: str
    pid_file: str | None = None
    pid: int | None = None
    service: str = ""

    def __post_init__(self) -> None:
        if (self.pid_file is None) == (self.pid is None):
            raise ValueError(f"process {self.name!r} needs exactly one of pid_file or pid")


def read_pid(pid_file: str) -> int | None:
    """The pid in a pid file, or None when the file is missing, empty or not a number."""
    try:
        text = Path(pid_file).read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


@dataclass(frozen=True, slots=True)
class _Stat:
    state: str
    start_ticks: int


class ProcessSource:
    def __init__(
        self,
        targets: Sequence[ProcessTarget],
        *,
        proc_root: str | os.PathLike[str] = "/proc",
        clock_ticks: int | None = None,
    ) -> None:
        self.targets = tuple(targets)
        self._proc = Path(proc_root)
        self._ticks = clock_ticks or os.sysconf("SC_CLK_TCK")
        self._identity: dict[str, tuple[int, int]] = {}
        self.restarts: dict[str, int] = {t.name: 0 for t in self.targets}

    def _stat(self, pid: int) -> _Stat | None:
        try:
            text = (self._proc / str(pid) / "stat").read_text()
        except OSError:
            return None
        # The command name is in parentheses and may hold spaces: split after the last ')'.
        fields = text[text.rfind(")") + 2 :].split()
        if len(fields) < 20 or not fields[19].isdigit():
            return None
        return _Stat(state=fields[0], start_ticks=int(fields[19]))

    def _boot_time(self) -> float | None:
        try:
            for line in (self._proc / "stat").read_text().splitlines():
                if line.startswith("btime "):
                    return float(line.split()[1])
        except (OSError, ValueError):
            return None
        return None

    def probe(self, target: ProcessTarget, now: float) -> list[Sample]:
        labels = {"process": target.name, "service": target.service}

        def sample(name: str, value: float) -> Sample:
            return Sample(SeriesKey.from_mapping(name, labels), value, now)

        pid = target.pid if target.pid is not None else read_pid(target.pid_file or "")
        stat = self._stat(pid) if pid is not None else None
        up = stat is not None and stat.state not in _DEAD_STATES
        out = []
        if up and pid is not None and stat is not None:
            identity = (pid, stat.start_ticks)
            previous = self._identity.get(target.name)
            if previous is not None and previous != identity:
                self.restarts[target.name] = self.restarts.get(target.name, 0) + 1
            self._identity[target.name] = identity
            boot = self._boot_time()
            if boot is not None:
                out.append(
                    sample("process_start_time_seconds", boot + stat.start_ticks / self._ticks)
                )
        out.insert(0, sample("process_up", 1.0 if up else 0.0))
        out.insert(1, sample("process_restarts_total", float(self.restarts.get(target.name, 0))))
        return out

    def __call__(self, now: float) -> list[Sample]:
        return [s for target in self.targets for s in self.probe(target, now)]
