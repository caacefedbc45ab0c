"""HTTP health probes: is the endpoint up, what status did it answer, how long did it take.

Each target yields ``probe_success`` (1 or 0), ``probe_http_status_code`` (0 when nothing
answered) and, when it answered, ``probe_duration_seconds`` (httpx's measured elapsed time,
so no wall clock is read here). Labels: ``probe="http"``, ``target`` (the URL) and the
target's ``service``. A failed probe is a signal, not a source error.

>>> import httpx
>>> client = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(503)))
>>> probe = HttpProbeSource([HttpProbeTarget("http://api/healthz", service="api")], client=client)
>>> [(s.key.name, s.value) for s in probe(now=1.0)][:2]
[('probe_success', 0.0), ('probe_http_status_code', 503.0)]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from healops.domain.signals import Sample, SeriesKey

__all__ = ["HttpProbeSource", "HttpProbeTarget"]


@dataclass(frozen=True, slots=True)
class HttpProbeTarget:
    """A URL to probe; any status in ``[ok_min, ok_max]`` counts as success."""

    url: str
    service: str = ""
    method: str = "GET"
    ok_min: int = 200
    ok_max: int = 399


class HttpProbeSource:
    def __init__(
        self,
        targets: Sequence[HttpProbeTarget],
        *,
        client: httpx.Client,
        timeout: float = 5.0,
    ) -> None:
        self.targets = tuple(targets)
        self._client = client
        self._timeout = timeout

    def probe(self, target: HttpProbeTarget, now: float) -> list[Sample]:
        labels = {"probe": "http", "target": target.url, "service": target.service}

        def sample(name: str, value: float) -> Sample:
            return Sample(SeriesKey.from_mapping(name, labels), value, now)

        try:
            response = self._client.request(target.method, target.url, timeout=self._timeout)
        except httpx.HTTPError:
            return [sample("probe_success", 0.0), sample("probe_http_status_code", 0.0)]
        ok = target.ok_min <= response.status_code <= target.ok_max
        out = [
            sample("probe_success", 1.0 if ok else 0.0),
            sample("probe_http_status_code", float(response.status_code)),
        ]
        try:
            out.append(sample("probe_duration_seconds", response.elapsed.total_seconds()))
        except RuntimeError:
            pass  # a transport that did not time the exchange (some fakes)
        return out

    def __call__(self, now: float) -> list[Sample]:
        return [s for target in self.targets for s in self.probe(target, now)]
