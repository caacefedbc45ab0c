"""``healops bench detect``: throughput of the default detector bank against river.

The bank scores then learns one vector of ``series`` values per tick (a random walk per
series, from a seeded generator). river's ``HalfSpaceTrees`` (default parameters) runs
``score_one`` + ``learn_one`` per sample on a smaller stream in the same process, and the
report gives the ratio of the two rates. Timings are wall-clock on one core.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from typing import Protocol

import numpy as np
from rich.console import Console
from rich.table import Table

from healops.detect.bank import EnsembleBank

__all__ = ["SpeedResult", "main", "measure"]


class _DictDetector(Protocol):
    """river's anomaly detector interface, for mypy (river ships no type information)."""

    def score_one(self, x: dict[str, float]) -> float: ...

    def learn_one(self, x: dict[str, float]) -> None: ...


@dataclass(frozen=True, kw_only=True)
class SpeedResult:
    series: int
    ticks: int
    samples_per_s: float
    ms_per_tick: float
    bytes_per_series: float
    river_hst_samples: int
    river_hst_samples_per_s: float
    ratio_vs_river: float


def _bank_rate(series: int, ticks: int, seed: int) -> tuple[float, float, float]:
    rng = np.random.default_rng(seed)
    bank = EnsembleBank(size=series, grace_period=20)
    level = rng.normal(100.0, 10.0, series)
    steps = rng.normal(0.0, 1.0, (ticks, series))
    # Warm up past the grace period so the timed ticks do the full work.
    for t in range(30):
        x = level + steps[t % ticks]
        bank.score_many(x)
        bank.learn_many(x)
    start = time.perf_counter()
    for t in range(ticks):
        x = level + steps[t]
        bank.score_many(x)
        bank.learn_many(x)
    elapsed = time.perf_counter() - start
    return series * ticks / elapsed, 1000.0 * elapsed / ticks, bank.nbytes_per_series


def _river_rate(samples: int, seed: int) -> float:
    from river.anomaly import HalfSpaceTrees

    rng = np.random.default_rng(seed)
    # HalfSpaceTrees expects features scaled to [0, 1].
    xs = np.clip(0.5 + 0.1 * rng.normal(0.0, 1.0, samples), 0.0, 1.0).tolist()
    model: _DictDetector = HalfSpaceTrees()
    start = time.perf_counter()
    for v in xs:
        sample = {"x": v}
        model.score_one(sample)
        model.learn_one(sample)
    return samples / (time.perf_counter() - start)


def measure(*, series: int = 10_000, ticks: int | None = None, river_samples: int = 3_000,
            seed: int = 7) -> SpeedResult:
    """Time the bank over ``series`` series and river's HalfSpaceTrees in the same run."""
    if ticks is None:
        ticks = max(20, min(400, 4_000_000 // max(series, 1)))
    rate, ms, nbytes = _bank_rate(series, ticks, seed)
    river = _river_rate(river_samples, seed)
    return SpeedResult(
        series=series, ticks=ticks, samples_per_s=rate, ms_per_tick=ms, bytes_per_series=nbytes,
        river_hst_samples=river_samples, river_hst_samples_per_s=river,
        ratio_vs_river=rate / river,
    )


def main(series: int, as_json: bool) -> int:
    """Run the benchmark and print a table (or one JSON object); exit code 0, 2 on bad input."""
    if series < 1:
        Console(stderr=True).print("--series must be at least 1")
        return 2
    result = measure(series=series)
    if as_json:
        print(json.dumps(asdict(result)))
        return 0
    table = Table(title=f"Detector throughput, one core, {result.series} series")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("EnsembleBank samples/s", f"{result.samples_per_s:,.0f}")
    table.add_row("EnsembleBank ms per tick", f"{result.ms_per_tick:.2f}")
    table.add_row("EnsembleBank bytes of state per series", f"{result.bytes_per_series:,.0f}")
    table.add_row("river HalfSpaceTrees samples/s", f"{result.river_hst_samples_per_s:,.0f}")
    table.add_row("ratio bank / river", f"{result.ratio_vs_river:,.0f}x")
    Console().print(table)
    return 0
