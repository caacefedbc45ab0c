from __future__ import annotations

import math

import numpy as np
import pytest

from healops.domain.signals import MetricBatch, Sample, SeriesKey
from healops.observe.exposition import ExpositionError, parse_exposition, parse_value

FULL = r"""
# HELP http_requests_total The total number of HTTP requests.
# TYPE http_requests_total counter
http_requests_total{method="post",code="200"} 1027 1395066363000
http_requests_total{method="post",code="400"}    3 1395066363000

# Escaping in label values:
msdos_file_access_time_seconds{path="C:\\DIR\\FILE.TXT",error="Not found:\n\"FILE.TXT\""} 1.45e9

# Minimalistic line:
metric_without_timestamp_and_labels 12.47

# A weird metric from before the epoch:
something_weird{problem="division by zero"} +Inf -3982045

# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.05"} 24054
http_request_duration_seconds_bucket{le="0.1"} 33444
http_request_duration_seconds_bucket{le="+Inf"} 144320
http_request_duration_seconds_sum 53423
http_request_duration_seconds_count 144320

# TYPE rpc_duration_seconds summary
rpc_duration_seconds{quantile="0.5"} 4773
rpc_duration_seconds{quantile="0.99"} NaN
rpc_duration_seconds_sum 1.7560473e+07
rpc_duration_seconds_count 2693
"""


def by_key(text: str) -> dict[str, float]:
    return {str(s.key): s.value for s in parse_exposition(text).samples}


def test_the_reference_example_parses_completely() -> None:
    exp = parse_exposition(FULL)
    assert len(exp.samples) == 14
    assert exp.types == {
        "http_requests_total": "counter",
        "http_request_duration_seconds": "histogram",
        "rpc_duration_seconds": "summary",
    }
    assert exp.help["http_requests_total"] == "The total number of HTTP requests."


def test_escaped_backslashes_quotes_and_newlines_are_unescaped() -> None:
    exp = parse_exposition(FULL)
    key = next(s.key for s in exp.samples if s.key.name.startswith("msdos"))
    assert key.label("path") == "C:\\DIR\\FILE.TXT"
    assert key.label("error") == 'Not found:\n"FILE.TXT"'


def test_special_values_and_timestamps() -> None:
    exp = parse_exposition(FULL)
    weird = next(s for s in exp.samples if s.key.name == "something_weird")
    assert weird.value == math.inf and weird.timestamp_ms == -3982045
    nan = next(s for s in exp.samples if s.key.label("quantile") == "0.99")
    assert math.isnan(nan.value) and nan.timestamp_ms is None


def test_histogram_and_summary_keep_their_bucket_sum_count_series() -> None:
    values = by_key(FULL)
    assert values['http_request_duration_seconds_bucket{le="+Inf"}'] == 144320
    assert values["http_request_duration_seconds_count{}"] == 144320
    assert values["rpc_duration_seconds_sum{}"] == 1.7560473e07


def test_signals_batch_untimestamped_samples_and_keep_timestamps() -> None:
    signals = parse_exposition(FULL).signals(now=100.0, extra_labels={"job": "web"})
    batch = signals[0]
    assert isinstance(batch, MetricBatch) and batch.ts == 100.0
    assert len(batch.keys) == 11 and all(k.label("job") == "web" for k in batch.keys)
    timestamped = [s for s in signals if isinstance(s, Sample)]
    assert [s.ts for s in timestamped] == [1395066363.0, 1395066363.0, -3982.045]


def test_extra_labels_move_clashing_exposed_labels_to_exported() -> None:
    (batch,) = parse_exposition('x{job="inner"} 1\n').signals(0.0, {"job": "outer"})
    assert isinstance(batch, MetricBatch)
    assert batch.keys[0] == SeriesKey.of("x", job="outer", exported_job="inner")
    np.testing.assert_array_equal(batch.values, [1.0])


def test_empty_text_gives_no_signals() -> None:
    assert parse_exposition("").signals(now=1.0) == []
    assert parse_exposition("# just a comment\n\n").samples == ()


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ('up{job="a} 1', 1, "not terminated"),
        ("up", 1, "missing value"),
        ("ok 1\nup abc", 2, "invalid value: 'abc' is not a number"),
        ("up 1 12.5", 1, "invalid timestamp '12.5'"),
        ("up 1 12 extra", 1, "unexpected text after the timestamp"),
        ('up{job="a\\q"} 1', 1, "invalid escape '\\q'"),
        ('up{job="a" 1', 1, "expected ',' or '}'"),
        ('up{9job="a"} 1', 1, "invalid label name"),
        ("up{job} 1", 1, "expected '=' after label name 'job'"),
        ("up{job=a} 1", 1, "must start with '\"'"),
        ('up{a="1",a="2"} 1', 1, "duplicate label 'a'"),
        ("9up 1", 1, "must start with a metric name"),
        ("up 1\nup 2", 2, "duplicate series"),
        ("# TYPE up countr\nup 1", 1, "unknown metric type 'countr'"),
        ("# TYPE up gauge\n# TYPE up gauge", 2, "second TYPE line"),
        ("up 1\n# TYPE up gauge", 2, "must come before its samples"),
        ("# TYPE h histogram\nh_bucket 1", 2, "histogram bucket without an 'le' label"),
        ("# HELP", 1, "needs a valid metric name"),
        ('up{job="a"', 1, "label set is not closed"),
    ],
)
def test_malformed_lines_name_the_line_and_the_problem(text: str, line: int, problem: str) -> None:
    with pytest.raises(ExpositionError) as info:
        parse_exposition(text)
    assert info.value.line == line
    assert problem in str(info.value)
    assert str(info.value).startswith(f"line {line}: ")


def test_parse_value_accepts_prometheus_specials_only() -> None:
    assert parse_value("+Inf") == math.inf and parse_value("-inf") == -math.inf
    assert math.isnan(parse_value("NaN"))
    for bad in ("1,5", "0x10", "infinity", ""):
        with pytest.raises(ValueError):
            parse_value(bad)


def test_trailing_comma_in_labels_and_crlf_line_endings_are_accepted() -> None:
    assert by_key('up{job="a",} 1\r\ndown 0\r\n') == {'up{job="a"}': 1.0, "down{}": 0.0}
