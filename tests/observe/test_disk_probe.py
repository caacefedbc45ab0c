from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from healops.observe.base import SourceError
from healops.observe.disk_probe import DiskUsageSource, directory_size


def by_name(samples: list) -> dict[str, float]:  # type: ignore[type-arg]
    return {s.key.name: s.value for s in samples}


def test_directory_size_counts_files_recursively_without_following_links(
    tmp_path: Path,
) -> None:
    (tmp_path / "a").write_bytes(b"x" * 10)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b").write_bytes(b"x" * 5)
    os.symlink(tmp_path / "a", tmp_path / "link")
    assert directory_size(str(tmp_path)) == 15


def test_a_real_directory_growing_between_polls(tmp_path: Path) -> None:
    source = DiskUsageSource(tmp_path, service="db", measure_directory=True)
    first = by_name(source(now=0.0))
    real = shutil.disk_usage(tmp_path)
    assert first["disk_total_bytes"] == real.total
    assert 0.0 <= first["disk_used_ratio"] <= 1.0
    assert first["dir_size_bytes"] == 0.0 and "dir_growth_bytes_per_second" not in first
    (tmp_path / "data").write_bytes(b"x" * 1000)
    second = source(now=10.0)
    assert by_name(second)["dir_growth_bytes_per_second"] == 100.0
    assert second[0].key.label("path") == str(tmp_path) and second[0].key.service == "db"


def test_filesystem_growth_from_an_injected_usage() -> None:
    used = iter([100, 400])
    source = DiskUsageSource("/data", usage=lambda p: (1000, next(used), 0))
    source(now=0.0)
    assert by_name(source(now=30.0))["disk_growth_bytes_per_second"] == 10.0


def test_a_missing_path_is_a_retryable_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as info:
        DiskUsageSource(tmp_path / "nope")(now=0.0)
    assert info.value.retryable and "nope" in str(info.value)
