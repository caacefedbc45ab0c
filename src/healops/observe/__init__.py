"""Observe: turn telemetry from the outside world into ``Signal`` values."""

from healops.observe.alertmanager import parse_alertmanager
from healops.observe.base import Source, SourceError
from healops.observe.buffer import BufferSource
from healops.observe.disk_probe import DiskUsageSource
from healops.observe.events import parse_events
from healops.observe.exposition import ExpositionError, parse_exposition
from healops.observe.fake import FakeSource
from healops.observe.http_probe import HttpProbeSource, HttpProbeTarget
from healops.observe.logs import LogFileSource, LogPipeline, LogSurgeDetector, LogTemplateMiner
from healops.observe.payload import PayloadError
from healops.observe.process_probe import ProcessSource, ProcessTarget
from healops.observe.prometheus_query import PrometheusQuerySource
from healops.observe.scrape import PrometheusScrapeSource, ScrapeTarget
from healops.observe.tls_probe import TlsCertificateSource, TlsTarget

__all__ = [
    "BufferSource",
    "DiskUsageSource",
    "ExpositionError",
    "FakeSource",
    "HttpProbeSource",
    "HttpProbeTarget",
    "LogFileSource",
    "LogPipeline",
    "LogSurgeDetector",
    "LogTemplateMiner",
    "PayloadError",
    "ProcessSource",
    "ProcessTarget",
    "PrometheusQuerySource",
    "PrometheusScrapeSource",
    "ScrapeTarget",
    "Source",
    "SourceError",
    "TlsCertificateSource",
    "TlsTarget",
    "parse_alertmanager",
    "parse_events",
    "parse_exposition",
]
