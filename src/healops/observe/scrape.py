"""Scrape Prometheus exposition endpoints over HTTP, like a tiny Prometheus.

Each target's series gain ``job`` and ``instance`` labels. A target that fails yields
nothing for that poll; its failure is kept in ``failures`` (retryable unless the target
answered with text that cannot be parsed or a client error), and the other targets go on.

>>> import httpx
>>> def handler(request: httpx.Request) -> httpx.Response:
...     return httpx.Response(200, text="up_total 3\\n")
>>> client = httpx.Client(transport=httpx.MockTransport(handler))
>>> source = PrometheusScrapeSource([ScrapeTarget("http://api-1:9100/metrics", job="node")],
...                                 client=client)
>>> [str(k) for k in source(now=10.0)[0].keys]
['up_total{instance="api-1:9100",job="node"}']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import httpx

from healops.domain.signals import Signal
from healops.observe.base import SourceError
from healops.observe.exposition import ExpositionError, parse_exposition

__all__ = ["PrometheusScrapeSource", "ScrapeFailure", "ScrapeTarget"]

ACCEPT = "text/plain;version=0.0.4;q=1.0, */*;q=0.1"


@dataclass(frozen=True, slots=True)
class ScrapeTarget:
    """One endpoint to scrape. ``instance`` defaults to the URL's ``host:port``."""

    url: str
    job: str = "scrape"
    instance: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)

    def target_labels(self) -> dict[str, str]:
        url = httpx.URL(self.url)
        default_port = {"http": 80, "https": 443}.get(url.scheme, 0)
        instance = self.instance or f"{url.host}:{url.port or default_port}"
        return {**self.labels, "job": self.job, "instance": instance}


@dataclass(frozen=True, slots=True)
class ScrapeFailure:
    """The last failure of one target."""

    target: ScrapeTarget
    at: float
    error: SourceError


class PrometheusScrapeSource:
    """Scrapes every target on each poll and yields one ``MetricBatch`` (and any
    explicitly timestamped ``Sample``) per healthy target."""

    def __init__(
        self,
        targets: Sequence[ScrapeTarget],
        *,
        client: httpx.Client,
        timeout: float = 10.0,
    ) -> None:
        self.targets = tuple(targets)
        self._client = client
        self._timeout = timeout
        self.failures: dict[str, ScrapeFailure] = {}

    def scrape(self, target: ScrapeTarget, now: float) -> list[Signal]:
        """Scrape one target or raise ``SourceError``."""
        try:
            response = self._client.get(
                target.url, headers={"Accept": ACCEPT}, timeout=self._timeout
            )
        except httpx.HTTPError as exc:
            raise SourceError(f"scrape of {target.url} failed: {exc!r}", retryable=True) from exc
        if response.status_code != 200:
            raise SourceError(
                f"scrape of {target.url} returned HTTP {response.status_code}",
                retryable=response.status_code >= 500 or response.status_code == 429,
            )
        try:
            exposition = parse_exposition(response.text)
        except ExpositionError as exc:
            raise SourceError(f"scrape of {target.url}: {exc}", retryable=False) from exc
        return exposition.signals(now, target.target_labels())

    def __call__(self, now: float) -> list[Signal]:
        out: list[Signal] = []
        for target in self.targets:
            try:
                signals = self.scrape(target, now)
            except SourceError as exc:
                self.failures[target.url] = ScrapeFailure(target, now, exc)
                continue
            self.failures.pop(target.url, None)
            out.extend(signals)
        return out
