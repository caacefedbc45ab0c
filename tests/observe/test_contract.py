"""One contract for every source: called with ``now`` it returns signals stamped from
``now`` (or from the data itself), never from the wall clock, and polling again is safe."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import get_args

import httpx
import pytest

import healops.observe as observe
from healops.domain.signals import MetricBatch, Sample, Signal
from healops.observe import (
    BufferSource,
    DiskUsageSource,
    FakeSource,
    HttpProbeSource,
    HttpProbeTarget,
    LogFileSource,
    LogPipeline,
    ProcessSource,
    ProcessTarget,
    PrometheusScrapeSource,
    ScrapeTarget,
    Source,
    TlsCertificateSource,
    TlsTarget,
)

NOW = 1767225600.0


def mock(text: str) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200, text=text)))


def sources(tmp: Path) -> dict[str, Source]:
    log = tmp / "app.log"
    log.write_text("ERROR boom\n")
    return {
        "scrape": PrometheusScrapeSource([ScrapeTarget("http://a:1/m")], client=mock("x 1\n")),
        "http_probe": HttpProbeSource([HttpProbeTarget("http://a/")], client=mock("ok")),
        "tls_probe": TlsCertificateSource([TlsTarget("a")], fetch=lambda h, p, n, t: b"junk"),
        "disk": DiskUsageSource(tmp, measure_directory=True),
        "process": ProcessSource([ProcessTarget("me", pid=1)]),
        "logs": LogFileSource(log, service="api", from_start=True, pipeline=LogPipeline()),
        "buffer": BufferSource(),
        "fake": FakeSource([]),
    }


@pytest.mark.parametrize(
    "name", ["scrape", "http_probe", "tls_probe", "disk", "process", "logs", "buffer", "fake"]
)
def test_sources_stamp_signals_with_now(name: str, tmp_path: Path) -> None:
    source = sources(tmp_path)[name]
    for now in (NOW, NOW + 60):
        out = list(source(now))
        assert all(isinstance(s, get_args(Signal)) for s in out)
        for s in out:
            if isinstance(s, Sample | MetricBatch):
                assert s.ts == now
    if isinstance(source, LogFileSource):
        source.close()


def test_public_api_is_explicit_and_importable() -> None:
    assert sorted(observe.__all__) == observe.__all__
    for name in observe.__all__:
        assert getattr(observe, name) is not None
    for module in ("healops.api.ingest",):
        mod = importlib.import_module(module)
        for name in mod.__all__:
            assert hasattr(mod, name)
