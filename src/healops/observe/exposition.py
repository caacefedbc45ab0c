r"""A parser for the Prometheus text exposition format (version 0.0.4).

Counters and gauges become one series each; histograms and summaries arrive as their
``_bucket``/``_sum``/``_count`` (or quantile) series, exactly as exposed. Samples without a
timestamp share the scrape time and become one ``MetricBatch``; a sample that carries its own
timestamp becomes a ``Sample`` at that time.

>>> text = '''
... # HELP http_requests_total Requests served.
... # TYPE http_requests_total counter
... http_requests_total{code="200",path="/a"} 1027
... http_requests_total{code="500"} 3 1700000000000
... temperature NaN
... '''
>>> exp = parse_exposition(text)
>>> [(str(s.key), s.value) for s in exp.samples][:2]
[('http_requests_total{code="200",path="/a"}', 1027.0), ('http_requests_total{code="500"}', 3.0)]
>>> exp.types["http_requests_total"]
'counter'
>>> [type(s).__name__ for s in exp.signals(now=1700000001.0)]
['MetricBatch', 'Sample']

A malformed line is reported with its number and what is wrong:

>>> parse_exposition('up{job="a} 1')  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
healops.observe.exposition.ExpositionError: line 1: label value for 'job' is not terminated ...
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from healops.domain.signals import MetricBatch, Sample, SeriesKey, Signal

__all__ = ["Exposition", "ExpositionError", "ParsedSample", "parse_exposition", "parse_value"]

METRIC_TYPES = frozenset({"counter", "gauge", "histogram", "summary", "untyped"})
_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_SPECIAL_VALUES = {"nan": math.nan, "+inf": math.inf, "inf": math.inf, "-inf": -math.inf}
_FLOAT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_MAX_SHOWN = 80


class ExpositionError(ValueError):
    """Exposition text that cannot be parsed; ``line`` is 1-based."""

    def __init__(self, line: int, problem: str, text: str) -> None:
        shown = text if len(text) <= _MAX_SHOWN else text[:_MAX_SHOWN] + "..."
        super().__init__(f"line {line}: {problem}: {shown!r}")
        self.line = line
        self.problem = problem


@dataclass(frozen=True, slots=True)
class ParsedSample:
    key: SeriesKey
    value: float
    timestamp_ms: int | None = None


@dataclass(frozen=True, slots=True)
class Exposition:
    """The parsed content of one exposition text."""

    samples: tuple[ParsedSample, ...]
    types: Mapping[str, str] = field(default_factory=dict)
    help: Mapping[str, str] = field(default_factory=dict)

    def signals(self, now: float, extra_labels: Mapping[str, str] | None = None) -> list[Signal]:
        """Untimestamped samples as one batch at ``now``; timestamped ones as ``Sample``.

        ``extra_labels`` are added to every series; a label already exposed under the same
        name is kept as ``exported_<name>``, as Prometheus does without ``honor_labels``.
        """
        batch_keys: list[SeriesKey] = []
        batch_values: list[float] = []
        out: list[Signal] = []
        for s in self.samples:
            key = _relabel(s.key, extra_labels) if extra_labels else s.key
            if s.timestamp_ms is None:
                batch_keys.append(key)
                batch_values.append(s.value)
            else:
                out.append(Sample(key, s.value, s.timestamp_ms / 1000.0))
        if batch_keys:
            values = np.asarray(batch_values, dtype=np.float64)
            out.insert(0, MetricBatch(ts=now, keys=tuple(batch_keys), values=values))
        return out


def _relabel(key: SeriesKey, extra: Mapping[str, str]) -> SeriesKey:
    labels = dict(key.labels)
    for name, value in extra.items():
        if name in labels:
            labels[f"exported_{name}"] = labels.pop(name)
        labels[name] = value
    return SeriesKey.from_mapping(key.name, labels)


def parse_value(token: str) -> float:
    """Parse a sample value: a float, ``NaN``, ``+Inf`` or ``-Inf`` (any case).

    >>> parse_value("-Inf"), parse_value("1e3")
    (-inf, 1000.0)
    """
    special = _SPECIAL_VALUES.get(token.lower())
    if special is not None:
        return special
    if not _FLOAT.fullmatch(token):
        raise ValueError(f"{token!r} is not a number (use a float, NaN, +Inf or -Inf)")
    return float(token)


class _Line:
    """A cursor over one sample line."""

    def __init__(self, number: int, text: str) -> None:
        self.number = number
        self.text = text
        self.pos = 0

    def fail(self, problem: str) -> ExpositionError:
        return ExpositionError(self.number, problem, self.text)

    def skip_blanks(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t":
            self.pos += 1

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def match(self, pattern: re.Pattern[str]) -> str | None:
        m = pattern.match(self.text, self.pos)
        if m is None:
            return None
        self.pos = m.end()
        return m.group()

    def token(self) -> str:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in " \t":
            self.pos += 1
        return self.text[start : self.pos]


def _label_value(line: _Line, label: str) -> str:
    if line.peek() != '"':
        raise line.fail(f"label value for {label!r} must start with '\"'")
    line.pos += 1
    out: list[str] = []
    text = line.text
    while line.pos < len(text):
        ch = text[line.pos]
        if ch == '"':
            line.pos += 1
            return "".join(out)
        if ch == "\\":
            nxt = text[line.pos + 1] if line.pos + 1 < len(text) else ""
            if nxt == "n":
                out.append("\n")
            elif nxt in ('"', "\\"):
                out.append(nxt)
            else:
                raise line.fail(
                    f"invalid escape '\\{nxt}' in label value for {label!r} "
                    '(only \\\\, \\" and \\n are allowed)'
                )
            line.pos += 2
            continue
        out.append(ch)
        line.pos += 1
    raise line.fail(f"label value for {label!r} is not terminated (missing closing '\"')")


def _labels(line: _Line) -> dict[str, str]:
    labels: dict[str, str] = {}
    line.pos += 1  # the opening brace
    while True:
        line.skip_blanks()
        if line.peek() == "}":
            line.pos += 1
            return labels
        name = line.match(_LABEL_NAME)
        if name is None:
            if not line.peek():
                raise line.fail("label set is not closed (missing '}')")
            raise line.fail(f"invalid label name starting at {line.text[line.pos :][:20]!r}")
        line.skip_blanks()
        if line.peek() != "=":
            raise line.fail(f"expected '=' after label name {name!r}")
        line.pos += 1
        line.skip_blanks()
        value = _label_value(line, name)
        if name in labels:
            raise line.fail(f"duplicate label {name!r}")
        labels[name] = value
        line.skip_blanks()
        if line.peek() == ",":
            line.pos += 1
        elif not line.peek():
            raise line.fail("label set is not closed (missing '}')")
        elif line.peek() != "}":
            raise line.fail(f"expected ',' or '}}' after the value of label {name!r}")


def _sample(line: _Line) -> ParsedSample:
    line.skip_blanks()
    name = line.match(_METRIC_NAME)
    if name is None:
        raise line.fail(
            "a sample line must start with a metric name matching [a-zA-Z_:][a-zA-Z0-9_:]*"
        )
    labels: dict[str, str] = {}
    if line.peek() == "{":
        labels = _labels(line)
    if line.peek() not in (" ", "\t"):
        if not line.peek():
            raise line.fail(f"missing value for {name!r}")
        raise line.fail(f"unexpected {line.peek()!r} after metric name {name!r}")
    line.skip_blanks()
    value_token = line.token()
    if not value_token:
        raise line.fail(f"missing value for {name!r}")
    try:
        value = parse_value(value_token)
    except ValueError as exc:
        raise line.fail(f"invalid value: {exc}") from None
    line.skip_blanks()
    timestamp: int | None = None
    ts_token = line.token()
    if ts_token:
        try:
            timestamp = int(ts_token)
        except ValueError:
            raise line.fail(
                f"invalid timestamp {ts_token!r} (use integer milliseconds since the epoch)"
            ) from None
        line.skip_blanks()
        if line.pos < len(line.text):
            raise line.fail(f"unexpected text after the timestamp: {line.text[line.pos :]!r}")
    return ParsedSample(SeriesKey.from_mapping(name, labels), value, timestamp)


def _family(name: str, types: Mapping[str, str]) -> str:
    for suffix in ("_bucket", "_sum", "_count"):
        base = name.removesuffix(suffix)
        if base != name and types.get(base) in ("histogram", "summary"):
            return base
    return name


def parse_exposition(text: str) -> Exposition:
    """Parse a whole exposition text; raise ``ExpositionError`` at the first bad line."""
    samples: list[ParsedSample] = []
    types: dict[str, str] = {}
    helps: dict[str, str] = {}
    seen: set[SeriesKey] = set()
    families_with_samples: set[str] = set()
    for number, raw in enumerate(text.split("\n"), start=1):
        stripped = raw.strip(" \t\r")
        if not stripped:
            continue
        if stripped.startswith("#"):
            parts = stripped[1:].split(None, 2)
            if len(parts) >= 1 and parts[0] in ("HELP", "TYPE"):
                if len(parts) < 2 or not _METRIC_NAME.fullmatch(parts[1]):
                    raise ExpositionError(number, f"# {parts[0]} needs a valid metric name", raw)
                metric = parts[1]
                rest = parts[2] if len(parts) == 3 else ""
                if parts[0] == "HELP":
                    helps[metric] = rest.replace("\\n", "\n").replace("\\\\", "\\")
                else:
                    if rest not in METRIC_TYPES:
                        raise ExpositionError(
                            number,
                            f"unknown metric type {rest!r} (use one of {sorted(METRIC_TYPES)})",
                            raw,
                        )
                    if metric in types:
                        raise ExpositionError(number, f"second TYPE line for {metric!r}", raw)
                    if metric in families_with_samples:
                        raise ExpositionError(
                            number, f"TYPE for {metric!r} must come before its samples", raw
                        )
                    types[metric] = rest
            continue
        sample = _sample(_Line(number, stripped))
        if sample.key in seen:
            raise ExpositionError(number, f"duplicate series {sample.key}", raw)
        family = _family(sample.key.name, types)
        if (
            types.get(family) == "histogram"
            and sample.key.name == f"{family}_bucket"
            and not sample.key.label("le")
        ):
            raise ExpositionError(number, "histogram bucket without an 'le' label", raw)
        seen.add(sample.key)
        families_with_samples.add(family)
        samples.append(sample)
    return Exposition(tuple(samples), types, helps)
