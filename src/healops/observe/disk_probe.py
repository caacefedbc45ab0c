"""Disk usage of a filesystem and the size and growth of a directory.

Yields ``disk_total_bytes``, ``disk_used_bytes``, ``disk_free_bytes``, ``disk_used_ratio``
and ``disk_growth_bytes_per_second`` for the filesystem holding ``path``, plus, when
``measure_directory`` is set, ``dir_size_bytes`` and ``dir_growth_bytes_per_second`` for the
directory itself. Growth is measured between two polls, so the first poll has none. Labels:
``path`` and ``service``.

>>> from shutil import _ntuple_diskusage as usage
>>> sizes = iter([100, 160])
>>> probe = DiskUsageSource("/var/log", measure_directory=True,
...                         usage=lambda p: usage(1000, 400, 600), dir_size=lambda p: next(sizes))
>>> _ = probe(now=0.0)
>>> {s.key.name: s.value for s in probe(now=60.0)}["dir_growth_bytes_per_second"]
1.0
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from typing import NamedTuple

from healops.domain.signals import Sample, SeriesKey
from healops.observe.base import SourceError

__all__ = ["DiskUsageSource", "directory_size"]


class _Usage(NamedTuple):
    total: int
    used: int
    free: int


def directory_size(path: str) -> int:
    """Bytes in the regular files under ``path``, not following symlinks; files that vanish
    or cannot be read while walking are skipped."""
    total = 0
    stack = [path]
    while stack:
        current = stack.pop()
        try:
            with os.scandir(current) as entries:
                for entry in entries:
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            stack.append(entry.path)
                        elif entry.is_file(follow_symlinks=False):
                            total += entry.stat(follow_symlinks=False).st_size
                    except OSError:
                        continue
        except OSError:
            if current == path:
                raise
    return total


class DiskUsageSource:
    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        service: str = "",
        measure_directory: bool = False,
        usage: Callable[[str], _Usage | tuple[int, int, int]] = shutil.disk_usage,
        dir_size: Callable[[str], int] = directory_size,
    ) -> None:
        self.path = os.fspath(path)
        self.service = service
        self.measure_directory = measure_directory
        self._usage = usage
        self._dir_size = dir_size
        self._last: tuple[float, int, int | None] | None = None

    def __call__(self, now: float) -> list[Sample]:
        labels = {"path": self.path, "service": self.service}

        def sample(name: str, value: float) -> Sample:
            return Sample(SeriesKey.from_mapping(name, labels), value, now)

        try:
            total, used, free = self._usage(self.path)
            size = self._dir_size(self.path) if self.measure_directory else None
        except OSError as exc:
            raise SourceError(f"cannot measure {self.path}: {exc}", retryable=True) from exc
        out = [
            sample("disk_total_bytes", float(total)),
            sample("disk_used_bytes", float(used)),
            sample("disk_free_bytes", float(free)),
            sample("disk_used_ratio", used / total if total else 0.0),
        ]
        if size is not None:
            out.append(sample("dir_size_bytes", float(size)))
        if self._last is not None and now > self._last[0]:
            last_ts, last_used, last_size = self._last
            elapsed = now - last_ts
            out.append(sample("disk_growth_bytes_per_second", (used - last_used) / elapsed))
            if size is not None and last_size is not None:
                out.append(sample("dir_growth_bytes_per_second", (size - last_size) / elapsed))
        self._last = (now, used, size)
        return out
