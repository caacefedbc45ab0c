"""Prometheus metrics for healops itself, read from the runtime when scraped.

A collector, not counters bumped from inside the loop: the engine stays free of metrics
code, and each app has its own ``CollectorRegistry`` (never the global one).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from healops.runtime import Runtime
from healops.store.queries import IncidentQueries

__all__ = ["RuntimeCollector", "register_runtime_metrics"]


class RuntimeCollector(Collector):
    def __init__(self, runtime: Runtime, queries: IncidentQueries,
                 pages: Callable[[], tuple[int, int]]) -> None:
        self.runtime = runtime
        self.queries = queries
        self.pages = pages

    def collect(self) -> Iterator[Metric]:
        rt = self.runtime
        yield CounterMetricFamily("healops_engine_ticks", "Engine steps taken.", value=rt.ticks)
        yield CounterMetricFamily("healops_engine_signals", "Signals fed to the engine.",
                                  value=rt.signals_seen)
        yield CounterMetricFamily("healops_source_errors", "Source polls that failed.",
                                  value=rt.source_errors)
        yield GaugeMetricFamily("healops_ingest_buffer_signals",
                                "Signals waiting in the ingest buffer.", value=len(rt.buffer))
        yield CounterMetricFamily("healops_ingest_buffer_dropped",
                                  "Signals dropped because the ingest buffer was full.",
                                  value=rt.buffer.dropped)
        yield GaugeMetricFamily("healops_engine_running", "1 while the loop thread runs.",
                                value=1.0 if rt.running else 0.0)
        if rt.last_tick_at is not None:
            yield GaugeMetricFamily("healops_engine_last_tick_timestamp_seconds",
                                    "Clock time of the last engine step.", value=rt.last_tick_at)
        states = GaugeMetricFamily("healops_incidents", "Incidents in the store, by state.",
                                   labels=["state"])
        for state, n in sorted(self.queries.state_counts().items()):
            states.add_metric([state], n)
        yield states
        pages, tickets = self.pages()
        yield CounterMetricFamily("healops_pages", "Pages sent to humans.", value=pages)
        yield CounterMetricFamily("healops_tickets", "Escalations handed to humans.",
                                  value=tickets)


def register_runtime_metrics(registry: CollectorRegistry, runtime: Runtime,
                             queries: IncidentQueries,
                             pages: Callable[[], tuple[int, int]]) -> None:
    registry.register(RuntimeCollector(runtime, queries, pages))
