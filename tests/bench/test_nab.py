"""The NAB harness on a tiny generated corpus."""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from healops.bench.nab import load_corpus, load_windows, main, run_detector

START = datetime(2024, 1, 1)


def stamp(i: int) -> str:
    return (START + timedelta(minutes=5 * i)).strftime("%Y-%m-%d %H:%M:%S")


def write_series(path: Path, values: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["timestamp", "value"])
        for i, v in enumerate(values):
            w.writerow([stamp(i), f"{v:.3f}"])


@pytest.fixture
def corpus(tmp_path: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(11)
    data = tmp_path / "data"
    quiet = 20.0 + rng.normal(0.0, 1.0, 900)
    jump = 20.0 + rng.normal(0.0, 1.0, 1200)
    jump[700:] += 12.0
    write_series(data / "synthetic" / "quiet.csv", quiet)
    write_series(data / "real" / "jump.csv", jump)
    windows = tmp_path / "windows.json"
    windows.write_text(json.dumps({
        "synthetic/quiet.csv": [],
        "real/jump.csv": [[stamp(680) + ".000000", stamp(740) + ".000000"]],
    }))
    return data, windows


def test_windows_become_row_ranges(corpus: tuple[Path, Path]) -> None:
    data, windows = corpus
    series = load_corpus(data)
    assert [s.name for s in series] == ["real/jump.csv", "synthetic/quiet.csv"]
    assert load_windows(windows, series) == {"real/jump.csv": ((680, 740),),
                                             "synthetic/quiet.csv": ()}


def test_scores_labelled_corpus_and_writes_results(
    corpus: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, windows = corpus
    out = tmp_path / "out"
    assert main(data=data, windows=windows, out=out, as_json=True) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report["scores"]) == {"standard", "reward_low_FP_rate", "reward_low_FN_rate"}
    assert set(report["thresholds"]) == set(report["scores"])
    # One clear level shift, inside its window: the detector finds it early.
    assert report["detail"]["standard"]["tp"] == 1
    assert report["scores"]["standard"] > 50.0
    path = out / "healops" / "real" / "healops_jump.csv"
    with path.open() as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["timestamp", "value", "anomaly_score", "label"]
    assert len(rows) == 1200
    labels = [int(r["label"]) for r in rows]
    assert labels[679:742] == [0] + [1] * 61 + [0]
    assert all(0.0 <= float(r["anomaly_score"]) <= 1.0 for r in rows)


def test_a_level_shift_is_detected_once_at_its_onset(corpus: tuple[Path, Path]) -> None:
    # NAB counts only the first detection in a window and charges for every other one:
    # the shift at row 700 must page at once and then stay quiet at its new level.
    data, _ = corpus
    series = load_corpus(data)
    scores = dict(zip([s.name for s in series], run_detector(series), strict=True))
    jump = scores["real/jump.csv"]
    assert np.flatnonzero(jump[700:] > 0.0).tolist() == [0]
    assert jump[700] > 0.5


def test_without_windows_only_writes_scores(
    corpus: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, _ = corpus
    out = tmp_path / "out"
    assert main(data=data, windows=None, out=out, as_json=False) == 0
    assert "wrote 2 score files" in capsys.readouterr().out
    with (out / "healops" / "synthetic" / "healops_quiet.csv").open() as fh:
        assert {r["label"] for r in csv.DictReader(fh)} == {"0"}


def test_rich_table_names_the_profiles(
    corpus: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, windows = corpus
    assert main(data=data, windows=windows, out=tmp_path / "o", as_json=False) == 0
    text = capsys.readouterr().out
    assert "standard" in text and "reward_low_FN_rate" in text


def test_bad_input_exits_with_two(tmp_path: Path) -> None:
    assert main(data=tmp_path, windows=None, out=tmp_path / "o", as_json=True) == 2
