from __future__ import annotations

import threading

import pytest

from healops.domain.signals import ChangeEvent, Sample, SeriesKey
from healops.observe.base import SourceError
from healops.observe.buffer import BufferSource
from healops.observe.fake import FakeSource


def test_buffer_drains_in_arrival_order_from_many_threads() -> None:
    buffer = BufferSource()

    def push(n: int) -> None:
        for i in range(100):
            buffer.put(ChangeEvent(ts=float(i), service=str(n), kind="flag"))

    threads = [threading.Thread(target=push, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(buffer) == 400
    drained = buffer(now=0.0)
    assert len(drained) == 400 and len(buffer) == 0 and buffer.dropped == 0
    for n in range(4):
        assert [e.ts for e in drained if isinstance(e, ChangeEvent) and e.service == str(n)] == [
            float(i) for i in range(100)
        ]


def test_buffer_refuses_a_zero_capacity() -> None:
    with pytest.raises(ValueError):
        BufferSource(capacity=0)


def test_fake_source_releases_in_time_order_and_fails_on_cue() -> None:
    key = SeriesKey.of("x")
    source = FakeSource(
        [(5.0, Sample(key, 2.0, 5.0)), (1.0, Sample(key, 1.0, 1.0))],
        fail_at=[3.0],
        retryable=False,
    )
    assert source(now=0.0) == []
    with pytest.raises(SourceError) as info:
        source(now=3.0)
    assert not info.value.retryable
    assert [s.value for s in source(now=10.0) if isinstance(s, Sample)] == [1.0, 2.0]
    assert source.polls == [0.0, 3.0, 10.0]
