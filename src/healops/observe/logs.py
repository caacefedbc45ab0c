"""Logs: lines from a tailed file or from HTTP, mined into templates with drain3, and a
surge of an error-level template turned into signals.

For every closed window each error-level template yields a ``log_template_rate`` sample
(lines per second, labels ``service``, ``template_id``, ``level``). When that rate jumps
above ``factor`` times the template's own baseline (an EWMA of past windows that does not
learn from a surge), a ``LogErrorSurge`` alert fires; it resolves when the rate falls back.

>>> pipeline = LogPipeline(surge=LogSurgeDetector(window=60.0, min_count=3, grace_windows=0))
>>> lines = [LogEvent(ts=5.0, service="api", message=f"db timeout after {n} ms", level="error")
...          for n in (10, 20, 30, 40)]
>>> [e.template for e in pipeline.process(lines)][:1]
['db timeout after <NUM> ms']
>>> rate, alert = pipeline.flush(now=60.0)
>>> str(rate.key), round(rate.value, 4), alert.status
('log_template_rate{level="error",service="api",template_id="1"}', 0.0667, 'firing')
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Annotated, Any, BinaryIO, Literal

from drain3 import TemplateMiner
from drain3.masking import MaskingInstruction
from drain3.memory_buffer_persistence import MemoryBufferPersistence
from drain3.template_miner_config import TemplateMinerConfig
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from healops.domain.signals import Alert, LogEvent, Sample, SeriesKey, Signal
from healops.observe.payload import PayloadError

__all__ = [
    "ERROR_LEVELS",
    "LogFileSource",
    "LogLinesPayload",
    "LogPipeline",
    "LogSurgeDetector",
    "LogTemplateMiner",
    "detect_level",
    "parse_log_lines",
]

ERROR_LEVELS = frozenset({"error", "critical", "fatal"})
MAX_LINES = 10_000

_LEVEL = re.compile(
    r"\b(FATAL|CRIT(?:ICAL)?|ERR(?:OR)?|WARN(?:ING)?|INFO|DEBUG|TRACE)\b", re.IGNORECASE
)
_LEVEL_NAMES = {"crit": "critical", "err": "error", "warn": "warning"}
_MASKS = (
    (r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", "UUID"),
    (r"((?<=[^A-Za-z0-9])|^)(\d{1,3}\.){3}\d{1,3}(:\d+)?((?=[^A-Za-z0-9])|$)", "IP"),
    (r"((?<=[^A-Za-z0-9])|^)0x[0-9a-fA-F]+((?=[^A-Za-z0-9])|$)", "HEX"),
    (r"((?<=[^A-Za-z0-9])|^)[-+]?\d+(\.\d+)?((?=[^A-Za-z0-9])|$)", "NUM"),
)


def detect_level(message: str, default: str = "info") -> str:
    """The first level word in a line, normalised.

    >>> detect_level("2026-01-01 ERR connection reset"), detect_level("3 errors fixed")
    ('error', 'info')
    """
    m = _LEVEL.search(message)
    if m is None:
        return default
    word = m.group(1).lower()
    return _LEVEL_NAMES.get(word, word)


class LogTemplateMiner:
    """drain3 with in-memory persistence and masks for numbers, IPs, hex and UUIDs."""

    def __init__(self, *, similarity: float = 0.4, depth: int = 4) -> None:
        config = TemplateMinerConfig()
        config.drain_sim_th = similarity
        config.drain_depth = depth
        config.masking_instructions = [MaskingInstruction(p, name) for p, name in _MASKS]
        config.snapshot_interval_minutes = 10**6  # snapshots follow template changes only
        self._miner = TemplateMiner(persistence_handler=MemoryBufferPersistence(), config=config)

    def mine(self, message: str) -> tuple[int, str]:
        """The template id and template text for one line."""
        result: dict[str, Any] = self._miner.add_log_message(message)
        return int(result["cluster_id"]), str(result["template_mined"])


@dataclass(slots=True)
class _TemplateState:
    service: str
    template_id: int
    level: str
    template: str
    count: int = 0
    baseline: float | None = None
    surging: bool = False
    surge_windows: int = 0
    since: float = 0.0


class LogSurgeDetector:
    """Counts error-level lines per (service, template) in fixed windows and flags surges."""

    def __init__(
        self,
        *,
        window: float = 60.0,
        factor: float = 3.0,
        min_count: int = 5,
        alpha: float = 0.3,
        learn_after: int = 10,
        max_windows_per_flush: int = 1000,
        grace_windows: int = 1,
    ) -> None:
        if window <= 0 or factor <= 1 or min_count < 1 or not 0 < alpha <= 1:
            raise ValueError("need window > 0, factor > 1, min_count >= 1, 0 < alpha <= 1")
        self.window = window
        self.factor = factor
        self.min_count = min_count
        self.alpha = alpha
        self.learn_after = learn_after
        self.max_windows_per_flush = max_windows_per_flush
        # Templates already noisy when the detector starts get this many windows to learn.
        self.grace_windows = grace_windows
        self._windows_closed = 0
        self._states: dict[tuple[str, int], _TemplateState] = {}
        self._window_start: float | None = None

    def observe(self, event: LogEvent, template_id: int) -> None:
        if event.level not in ERROR_LEVELS:
            return
        if self._window_start is None:
            self._window_start = math.floor(event.ts / self.window) * self.window
        key = (event.service, template_id)
        state = self._states.get(key)
        if state is None:
            state = _TemplateState(event.service, template_id, event.level, event.template)
            self._states[key] = state
        state.count += 1

    def flush(self, now: float) -> list[Signal]:
        """Close every window that ended by ``now``; empty windows count as zero."""
        out: list[Signal] = []
        if self._window_start is None:
            return out
        closed = 0
        while self._window_start + self.window <= now:
            if closed == self.max_windows_per_flush:
                # After a long silence, skip ahead: the quiet windows taught all they could.
                self._window_start = math.floor(now / self.window) * self.window
                break
            end = self._window_start + self.window
            for state in self._states.values():
                out.extend(self._close(state, end))
            self._window_start = end
            self._windows_closed += 1
            closed += 1
        return out

    def _close(self, state: _TemplateState, end: float) -> list[Signal]:
        rate = state.count / self.window
        key = SeriesKey.of(
            "log_template_rate",
            service=state.service,
            template_id=str(state.template_id),
            level=state.level,
        )
        out: list[Signal] = [Sample(key, rate, end)]
        baseline = state.baseline or 0.0
        surge = (
            self._windows_closed >= self.grace_windows
            and state.count >= self.min_count
            and rate > self.factor * baseline
        )
        labels = (
            ("alertname", "LogErrorSurge"),
            ("service", state.service),
            ("template_id", str(state.template_id)),
        )
        annotations = (
            ("baseline_per_second", f"{baseline:.6g}"),
            ("rate_per_second", f"{rate:.6g}"),
            ("template", state.template),
        )
        if surge and not state.surging:
            state.surging, state.since, state.surge_windows = True, end - self.window, 0
            out.append(self._alert(labels, annotations, "firing", state.since, None))
        elif not surge and state.surging:
            state.surging = False
            out.append(self._alert(labels, annotations, "resolved", state.since, end))
        if state.surging:
            state.surge_windows += 1
        # Learn from normal windows only, unless a surge has lasted long enough to be normal.
        if not state.surging or state.surge_windows > self.learn_after:
            state.baseline = (
                rate if state.baseline is None else self.alpha * rate + (1 - self.alpha) * baseline
            )
        state.count = 0
        return out

    @staticmethod
    def _alert(
        labels: tuple[tuple[str, str], ...],
        annotations: tuple[tuple[str, str], ...],
        status: Literal["firing", "resolved"],
        starts_at: float,
        ends_at: float | None,
    ) -> Alert:
        return Alert(
            name="LogErrorSurge",
            labels=labels,
            status=status,
            starts_at=starts_at,
            ends_at=ends_at,
            annotations=annotations,
            fingerprint="log-surge:" + ":".join(v for _, v in labels[1:]),
            source="logs",
        )


class LogPipeline:
    """Template mining followed by surge detection, shared by every log source."""

    def __init__(
        self,
        *,
        miner: LogTemplateMiner | None = None,
        surge: LogSurgeDetector | None = None,
        window: float = 60.0,
        min_count: int = 5,
    ) -> None:
        self.miner = miner or LogTemplateMiner()
        self.surge = surge or LogSurgeDetector(window=window, min_count=min_count)

    def process(self, events: Iterable[LogEvent]) -> list[LogEvent]:
        out = []
        for event in events:
            template_id, template = self.miner.mine(event.message)
            mined = replace(event, template=template)
            self.surge.observe(mined, template_id)
            out.append(mined)
        return out

    def flush(self, now: float) -> list[Signal]:
        return self.surge.flush(now)


class LogFileSource:
    """Tails a file like ``tail -F``: remembers its offset, follows rotation (a new file at
    the path) and truncation (the file shrank), and keeps a partial last line until its
    newline arrives. A missing file is waited for, not an error.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        service: str,
        instance: str = "",
        pipeline: LogPipeline | None = None,
        from_start: bool = False,
        max_bytes_per_poll: int = 4 << 20,
    ) -> None:
        self.path = os.fspath(path)
        self.service = service
        self.instance = instance
        self.pipeline = pipeline
        self._from_start = from_start
        self._max_bytes = max_bytes_per_poll
        self._fh: BinaryIO | None = None
        self._inode: tuple[int, int] | None = None
        self._partial = b""
        self._first_open = True

    @property
    def offset(self) -> int:
        return self._fh.tell() if self._fh is not None else 0

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def _open(self) -> bool:
        try:
            fh = open(self.path, "rb")  # kept open between polls
        except FileNotFoundError:
            self._first_open = False  # a file that appears later is new: read all of it
            return False
        st = os.fstat(fh.fileno())
        if self._first_open and not self._from_start:
            fh.seek(0, os.SEEK_END)
        self._first_open = False
        self._fh, self._inode = fh, (st.st_dev, st.st_ino)
        return True

    def _read(self, budget: int) -> bytes:
        assert self._fh is not None
        if os.fstat(self._fh.fileno()).st_size < self._fh.tell():
            self._fh.seek(0)  # truncated in place (copytruncate)
            self._partial = b""
        return self._fh.read(budget)

    def _rotated(self) -> bool:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return True
        return (st.st_dev, st.st_ino) != self._inode

    def read_lines(self) -> list[str]:
        """New complete lines since the last call."""
        if self._fh is None and not self._open():
            return []
        data = self._read(self._max_bytes)
        if len(data) < self._max_bytes and self._rotated():
            # The old file is fully read: move to the new one and read it from the start.
            self.close()
            self._first_open = False
            if self._open():
                data += self._partial_flush() + self._read(self._max_bytes)
            else:
                data += self._partial_flush()
        chunk = self._partial + data
        *complete, self._partial = chunk.split(b"\n")
        return [line.decode("utf-8", errors="replace").rstrip("\r") for line in complete if line]

    def _partial_flush(self) -> bytes:
        # A rotated file's unterminated last line is complete: end it.
        if self._partial:
            return b"\n"
        return b""

    def __call__(self, now: float) -> list[Signal]:
        events = [
            LogEvent(
                ts=now,
                service=self.service,
                message=line,
                level=detect_level(line),
                instance=self.instance,
            )
            for line in self.read_lines()
        ]
        if self.pipeline is None:
            return list(events)
        out: list[Signal] = list(self.pipeline.process(events))
        out.extend(self.pipeline.flush(now))
        return out


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LogLineIn(_Strict):
    message: str = Field(min_length=1)
    level: str | None = None
    ts: AwareDatetime | Annotated[float, Field(allow_inf_nan=False)] | None = None


class LogLinesPayload(_Strict):
    """The body of ``POST /api/v1/logs``: lines of one service, as strings or objects."""

    service: str = Field(min_length=1)
    instance: str = ""
    lines: list[LogLineIn | str] = Field(min_length=1, max_length=MAX_LINES)


def parse_log_lines(payload: Any, *, now: float) -> list[LogEvent]:
    """Validate a decoded body and return its lines as events, or raise ``PayloadError``."""
    try:
        parsed = LogLinesPayload.model_validate(payload)
    except ValidationError as exc:
        raise PayloadError.from_validation_error(
            exc, what="log lines payload", model=LogLinesPayload
        ) from None
    return [_event(parsed, line, now) for line in parsed.lines]


def _event(payload: LogLinesPayload, line: LogLineIn | str, now: float) -> LogEvent:
    if isinstance(line, str):
        line = LogLineIn(message=line)
    if line.ts is None:
        ts = now
    elif isinstance(line.ts, float | int):
        ts = float(line.ts)
    else:
        ts = line.ts.timestamp()
    return LogEvent(
        ts=ts,
        service=payload.service,
        message=line.message,
        level=(line.level or detect_level(line.message)).lower(),
        instance=payload.instance,
    )


def split_lines(text: str) -> Sequence[str]:
    """Non-empty lines of a plain-text body."""
    return [line for line in text.splitlines() if line.strip()]
