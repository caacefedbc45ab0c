"""``healops bench nab``: stream the NAB corpus through the default detector and score it.

Every CSV under ``data`` (``<category>/<file>.csv`` with columns ``timestamp,value``) is one
series of one ``EnsembleBank``: all files advance together, one row per tick, each series
seeing only its own past. Nothing is fitted per file and every file gets the same
configuration. The scores go to ``out/healops/<category>/healops_<file>.csv`` in NAB's
results layout; with a windows file the corpus is scored under the three NAB profiles.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from healops.bench.nab_score import PROFILES, CorpusScore, NabFile, score_corpus
from healops.detect.bank import EnsembleBank
from healops.detect.base import FloatArray

__all__ = ["NabSeries", "load_corpus", "load_windows", "main", "run_detector"]

DETECTOR = "healops"


@dataclass(frozen=True, kw_only=True)
class NabSeries:
    """One corpus file: its name relative to the data folder, timestamps and values."""

    name: str
    timestamps: tuple[str, ...]
    values: FloatArray


def load_corpus(data: Path) -> list[NabSeries]:
    """Read every ``<category>/<file>.csv`` under ``data``, sorted by name."""
    series = []
    for path in sorted(data.glob("*/*.csv")):
        with path.open(newline="") as fh:
            rows = list(csv.DictReader(fh))
        series.append(NabSeries(
            name=path.relative_to(data).as_posix(),
            timestamps=tuple(r["timestamp"] for r in rows),
            values=np.array([float(r["value"]) for r in rows], dtype=np.float64),
        ))
    return series


def load_windows(path: Path, corpus: Sequence[NabSeries]) -> dict[str, tuple[tuple[int, int], ...]]:
    """Turn NAB's ``{file: [[start, end], ...]}`` timestamps into inclusive row ranges."""
    raw: dict[str, list[list[str]]] = json.loads(path.read_text())
    windows: dict[str, tuple[tuple[int, int], ...]] = {}
    for s in corpus:
        stamps = np.array([datetime.fromisoformat(t) for t in s.timestamps], dtype=object)
        ranges = []
        for start, end in raw.get(s.name, []):
            lo = datetime.fromisoformat(start)
            hi = datetime.fromisoformat(end)
            inside = np.flatnonzero((stamps >= lo) & (stamps <= hi))
            if len(inside):
                ranges.append((int(inside[0]), int(inside[-1])))
        windows[s.name] = tuple(ranges)
    return windows


def run_detector(
    corpus: Sequence[NabSeries], *, console: Console | None = None
) -> list[FloatArray]:
    """Stream every series once, in order, and return one anomaly score per row."""
    length = max((len(s.values) for s in corpus), default=0)
    ticks = np.full((length, len(corpus)), np.nan)
    for k, s in enumerate(corpus):
        ticks[: len(s.values), k] = s.values
    scores = np.zeros_like(ticks)
    bank = EnsembleBank(size=len(corpus))
    with Progress(console=console or Console(stderr=True), transient=True) as progress:
        task = progress.add_task("streaming NAB", total=length)
        for t in range(length):
            scores[t] = bank.score_many(ticks[t])
            bank.learn_many(ticks[t])
            if t % 500 == 0:
                progress.update(task, completed=t)
        progress.update(task, completed=length)
    return [scores[: len(s.values), k] for k, s in enumerate(corpus)]


def _write_results(out: Path, s: NabSeries, scores: FloatArray,
                   windows: tuple[tuple[int, int], ...]) -> None:
    category, filename = s.name.split("/", 1)
    path = out / DETECTOR / category / f"{DETECTOR}_{filename}"
    path.parent.mkdir(parents=True, exist_ok=True)
    label = np.zeros(len(scores), dtype=np.int64)
    for lo, hi in windows:
        label[lo : hi + 1] = 1
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["timestamp", "value", "anomaly_score", "label"])
        for ts, v, a, lab in zip(s.timestamps, s.values, scores, label, strict=True):
            writer.writerow([ts, repr(float(v)), f"{float(a):.6f}", int(lab)])


def _report(results: dict[str, CorpusScore], n_files: int, n_rows: int, as_json: bool) -> None:
    if as_json:
        print(json.dumps({
            "detector": DETECTOR,
            "files": n_files,
            "rows": n_rows,
            "scores": {p: round(r.score, 2) for p, r in results.items()},
            "thresholds": {p: r.threshold for p, r in results.items()},
            "detail": {p: {"raw": round(r.raw, 4), "tp": r.tp, "fp": r.fp, "fn": r.fn}
                       for p, r in results.items()},
        }))
        return
    table = Table(title=f"NAB: {DETECTOR} on {n_files} files ({n_rows} rows)")
    for column in ("profile", "score", "threshold", "TP", "FP", "FN"):
        table.add_column(column, justify="left" if column == "profile" else "right")
    for p, r in results.items():
        table.add_row(p, f"{r.score:.1f}", f"{r.threshold:.4f}", str(r.tp), str(r.fp), str(r.fn))
    Console().print(table)


def main(data: Path, windows: Path | None, out: Path, as_json: bool) -> int:
    """Run the benchmark; the exit code is 0 on success and 2 on unusable input."""
    err = Console(stderr=True)
    corpus = load_corpus(data)
    if not corpus:
        err.print(f"no <category>/<file>.csv files under {data}")
        return 2
    if windows is not None and not windows.is_file():
        err.print(f"windows file {windows} does not exist")
        return 2
    labelled = load_windows(windows, corpus) if windows is not None else {}
    scores = run_detector(corpus, console=err)
    for s, sc in zip(corpus, scores, strict=True):
        _write_results(out, s, sc, labelled.get(s.name, ()))
    n_rows = sum(len(s.values) for s in corpus)
    if windows is None:
        if as_json:
            print(json.dumps({"detector": DETECTOR, "files": len(corpus), "rows": n_rows,
                              "out": str(out / DETECTOR)}))
        else:
            Console().print(f"wrote {len(corpus)} score files to {out / DETECTOR}")
        return 0
    files = [NabFile(name=s.name, scores=sc, windows=labelled[s.name])
             for s, sc in zip(corpus, scores, strict=True)]
    results = {name: score_corpus(files, profile) for name, profile in PROFILES.items()}
    _report(results, len(corpus), n_rows, as_json)
    sys.stdout.flush()
    return 0
