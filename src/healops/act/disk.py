"""Free disk space under one allowed root: delete old files or gzip old logs.

Never follows a symlink (neither while walking nor when opening a file), never touches a
path outside the root, and takes ``now`` as a parameter rather than reading a clock.

>>> import tempfile, os
>>> with tempfile.TemporaryDirectory() as d:
...     old = Path(d, "app.log"); _ = old.write_text("x" * 100); os.utime(old, (0, 0))
...     r = clean_disk(Path(d), {"older_than_s": 3600, "mode": "compress"}, now=7200.0)
...     (r.message, sorted(os.listdir(d)))
('compress: 1 file(s), 100 bytes before', ['app.log.gz'])
"""

from __future__ import annotations

import gzip
import os
import re
import shutil
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from healops.act import validate
from healops.domain.actions import ActionResult

__all__ = ["clean_disk"]

_SUFFIX = re.compile(r"\.[A-Za-z0-9._-]{1,31}")
MAX_FILES = 100_000


def clean_disk(
    root: Path, params: Mapping[str, Any], *, now: float, dry_run: bool = False
) -> ActionResult:
    """Delete (``mode="delete"``) or gzip (``mode="compress"``) regular files under ``root``
    (or ``root/subdir``) last modified more than ``older_than_s`` seconds before ``now``,
    optionally only those ending in ``suffix``."""
    older_than = validate.number(params.get("older_than_s"), field="older_than_s",
                                 low=0.0, high=10 * 365 * 86400.0)
    mode = params.get("mode", "delete")
    if mode not in ("delete", "compress"):
        raise validate.InvalidParameter(f"mode: {str(mode)[:40]!r} is not 'delete' or 'compress'")
    suffix = params.get("suffix")
    if suffix is not None and not (isinstance(suffix, str) and _SUFFIX.fullmatch(suffix)):
        raise validate.InvalidParameter("suffix: must look like '.log' (at most 32 characters)")
    base = root.resolve()
    top = validate.path_under(base, params["subdir"], field="subdir") if "subdir" in params \
        else base
    if not top.is_dir():
        return ActionResult(ok=True, changed=False, message=f"{mode}: nothing under {top.name}")
    cutoff = now - older_than
    files, size = 0, 0
    for dirpath, dirnames, filenames in os.walk(top, followlinks=False):
        dirnames[:] = [d for d in dirnames if not os.path.islink(os.path.join(dirpath, d))]
        for fname in filenames:
            path = os.path.join(dirpath, fname)
            st = os.lstat(path)
            if not stat.S_ISREG(st.st_mode) or st.st_mtime >= cutoff:
                continue
            if suffix is not None and not fname.endswith(suffix):
                continue
            if mode == "compress" and fname.endswith(".gz"):
                continue
            files += 1
            size += st.st_size
            if dry_run:
                pass
            elif mode == "delete":
                _delete(path)
            else:
                _compress(path, st)
            if files >= MAX_FILES:
                break
    verb = f"dry run: would {mode}" if dry_run else mode
    return ActionResult(ok=True, changed=files > 0 and not dry_run,
                        message=f"{verb}: {files} file(s), {size} bytes before")


def _delete(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _compress(path: str, st: os.stat_result) -> None:
    target = path + ".gz"
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
    src_fd = os.open(path, flags)
    try:
        nofollow = getattr(os, "O_NOFOLLOW", 0)
        dst_fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | nofollow, 0o600)
    except FileExistsError:  # an older archive of the same name: leave both alone
        os.close(src_fd)
        return
    with os.fdopen(src_fd, "rb") as src, os.fdopen(dst_fd, "wb") as raw:
        with gzip.GzipFile(filename=os.path.basename(path), fileobj=raw, mode="wb",
                           mtime=int(st.st_mtime)) as dst:
            shutil.copyfileobj(src, dst)
    os.utime(target, (st.st_atime, st.st_mtime))
    os.unlink(path)
