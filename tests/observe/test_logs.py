from __future__ import annotations

import os
from pathlib import Path

import pytest

from healops.domain.signals import Alert, LogEvent, Sample, Signal
from healops.observe.logs import (
    LogFileSource,
    LogPipeline,
    LogSurgeDetector,
    LogTemplateMiner,
    detect_level,
    parse_log_lines,
)
from healops.observe.payload import PayloadError


def lines(signals: list[Signal]) -> list[str]:
    return [s.message for s in signals if isinstance(s, LogEvent)]


class TestFileTail:
    def test_starts_at_the_end_and_reads_only_new_complete_lines(self, tmp_path: Path) -> None:
        log = tmp_path / "app.log"
        log.write_text("old line\n")
        source = LogFileSource(log, service="api")
        assert source(now=1.0) == []
        with log.open("a") as f:
            f.write("ERROR first\nsecond without newline")
        events = source(now=2.0)
        assert lines(events) == ["ERROR first"]
        assert isinstance(events[0], LogEvent) and events[0].level == "error"
        assert events[0].ts == 2.0 and events[0].service == "api"
        with log.open("a") as f:
            f.write(" yet\n")
        assert lines(source(now=3.0)) == ["second without newline yet"]
        assert source.offset == log.stat().st_size
        source.close()

    def test_from_start_reads_existing_content(self, tmp_path: Path) -> None:
        log = tmp_path / "app.log"
        log.write_text("a\r\nb\n")
        source = LogFileSource(log, service="api", from_start=True)
        assert lines(source(now=1.0)) == ["a", "b"]
        source.close()

    def test_follows_rotation_without_losing_lines(self, tmp_path: Path) -> None:
        log = tmp_path / "app.log"
        log.write_text("")
        source = LogFileSource(log, service="api")
        source(now=0.0)
        with log.open("a") as f:
            f.write("before rotation\nunfinished")
        os.rename(log, tmp_path / "app.log.1")
        with (tmp_path / "app.log.1").open("a") as f:
            f.write(" tail\nlast old line\n")
        log.write_text("new file line\n")
        assert lines(source(now=1.0)) == [
            "before rotation",
            "unfinished tail",
            "last old line",
            "new file line",
        ]
        with log.open("a") as f:
            f.write("more\n")
        assert lines(source(now=2.0)) == ["more"]
        source.close()

    def test_follows_truncation(self, tmp_path: Path) -> None:
        log = tmp_path / "app.log"
        log.write_text("x" * 100 + "\n")
        source = LogFileSource(log, service="api")
        source(now=0.0)
        with log.open("w") as f:
            f.write("after truncate\n")
        assert lines(source(now=1.0)) == ["after truncate"]
        source.close()

    def test_waits_for_a_missing_file_then_reads_it_from_the_start(self, tmp_path: Path) -> None:
        log = tmp_path / "later.log"
        source = LogFileSource(log, service="api")
        assert source(now=0.0) == []
        log.write_text("hello\n")
        assert lines(source(now=1.0)) == ["hello"]
        source.close()

    def test_bounded_reads_per_poll(self, tmp_path: Path) -> None:
        log = tmp_path / "big.log"
        log.write_text("".join(f"line {i}\n" for i in range(100)))
        source = LogFileSource(log, service="api", from_start=True, max_bytes_per_poll=64)
        got: list[str] = []
        for t in range(40):
            got += lines(source(now=float(t)))
        assert got == [f"line {i}" for i in range(100)]
        source.close()

    def test_lines_go_through_the_pipeline(self, tmp_path: Path) -> None:
        log = tmp_path / "app.log"
        log.write_text("".join(f"ERROR timeout talking to 10.0.0.{i}:5432\n" for i in range(6)))
        pipeline = LogPipeline(surge=LogSurgeDetector(window=60.0, min_count=5, grace_windows=0))
        source = LogFileSource(log, service="db", pipeline=pipeline, from_start=True)
        first = source(now=10.0)
        assert {e.template for e in first if isinstance(e, LogEvent)} == {
            "ERROR timeout talking to <IP>"
        }
        later = source(now=60.0)
        assert [type(s).__name__ for s in later] == ["Sample", "Alert"]
        source.close()


class TestSurge:
    def feed(self, detector: LogSurgeDetector, start: float, count: int, tid: int = 1) -> None:
        for i in range(count):
            event = LogEvent(ts=start + i * 0.01, service="api", message="boom", level="error")
            detector.observe(event, tid)

    def test_steady_rate_is_no_surge_then_a_jump_fires_and_a_fall_resolves(self) -> None:
        detector = LogSurgeDetector(window=60.0, factor=3.0, min_count=5, alpha=0.5)
        alerts: list[Alert] = []
        rates: list[float] = []
        # Timeline: 10 windows at 6/min, 2 windows at 60/min, then back to 6/min.
        for w, count in enumerate([6] * 10 + [60, 60] + [6, 6]):
            self.feed(detector, w * 60.0, count)
            for s in detector.flush(now=(w + 1) * 60.0):
                if isinstance(s, Alert):
                    alerts.append(s)
                elif isinstance(s, Sample):
                    rates.append(s.value)
        assert rates[0] == pytest.approx(0.1) and rates[10] == pytest.approx(1.0)
        assert [(a.status, a.starts_at, a.ends_at) for a in alerts] == [
            ("firing", 600.0, None),
            ("resolved", 600.0, 780.0),
        ]
        assert alerts[0].label("template_id") == "1" and alerts[0].source == "logs"
        assert dict(alerts[0].annotations)["baseline_per_second"] == "0.1"

    def test_a_few_lines_never_surge(self) -> None:
        detector = LogSurgeDetector(window=60.0, min_count=5)
        self.feed(detector, 0.0, 4)
        assert not any(isinstance(s, Alert) for s in detector.flush(now=60.0))

    def test_info_lines_are_not_counted(self) -> None:
        detector = LogSurgeDetector(window=60.0)
        detector.observe(LogEvent(ts=0.0, service="api", message="ok"), 1)
        assert detector.flush(now=600.0) == []

    def test_quiet_windows_count_as_zero_and_long_gaps_are_skipped(self) -> None:
        detector = LogSurgeDetector(window=1.0, min_count=1, max_windows_per_flush=5)
        self.feed(detector, 0.0, 1)
        out = detector.flush(now=1000.0)
        rates = [s.value for s in out if isinstance(s, Sample)]
        assert rates == [1.0, 0.0, 0.0, 0.0, 0.0]
        assert detector.flush(now=1000.5) == []

    def test_a_long_surge_becomes_the_new_normal(self) -> None:
        detector = LogSurgeDetector(window=1.0, min_count=1, factor=2.0, learn_after=3)
        statuses = []
        for w in range(30):
            self.feed(detector, float(w), 1 if w < 5 else 50)
            statuses += [s.status for s in detector.flush(now=w + 1.0) if isinstance(s, Alert)]
        assert statuses == ["firing", "resolved"]

    def test_bad_settings_are_refused(self) -> None:
        with pytest.raises(ValueError):
            LogSurgeDetector(factor=1.0)


def test_miner_groups_lines_by_template() -> None:
    miner = LogTemplateMiner()
    a = miner.mine("user 42 logged in from 10.1.2.3")
    b = miner.mine("user 7 logged in from 10.9.9.9")
    c = miner.mine("disk /dev/sda1 is full")
    assert a[0] == b[0] != c[0]
    assert b[1] == "user <NUM> logged in from <IP>"


@pytest.mark.parametrize(
    ("line", "level"),
    [
        ("2026-01-01 FATAL out of memory", "fatal"),
        ("[crit] segfault", "critical"),
        ("level=warning msg=slow", "warning"),
        ("DEBUG x", "debug"),
        ("nothing here", "info"),
    ],
)
def test_detect_level(line: str, level: str) -> None:
    assert detect_level(line) == level


def test_log_lines_payload() -> None:
    events = parse_log_lines(
        {
            "service": "api",
            "instance": "api-1",
            "lines": ["ERROR x", {"message": "y", "level": "WARNING", "ts": 5}],
        },
        now=9.0,
    )
    assert [(e.level, e.ts, e.instance) for e in events] == [
        ("error", 9.0, "api-1"),
        ("warning", 5.0, "api-1"),
    ]
    with pytest.raises(PayloadError) as info:
        parse_log_lines({"service": "api", "lines": [{"message": ""}]}, now=0.0)
    assert "lines[0].message" in str(info.value)
