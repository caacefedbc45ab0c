"""The fault injector: each fault breaks something real, and knows the ground truth of
whether it is still broken (for the scoreboard only; the engine sees telemetry).

>>> sorted(FAULTS)  # doctest: +NORMALIZE_WHITESPACE
['bad_deploy', 'bad_replica', 'cert_expiry', 'crash_loop', 'disk_fill', 'memory_leak',
 'security_anomaly', 'slow_dependency', 'traffic_surge']
"""

from __future__ import annotations

import json
import math
import urllib.request
from dataclasses import dataclass, field
from typing import Protocol

from healops.domain.signals import ChangeEvent
from healops.lab.live.ca import DAY, cert_not_after
from healops.lab.live.estate import GOOD_RELEASES, VOLUME_QUOTA_BYTES, LiveEstate
from healops.lab.live.loadgen import LoadGenerator
from healops.observe.disk_probe import directory_size

__all__ = ["FAULTS", "LabHandle", "LiveFault", "make_fault"]


class LabHandle(Protocol):
    """What a fault may touch: the estate, the load generator and the change feed."""

    estate: LiveEstate
    loadgen: LoadGenerator

    def record_change(self, change: ChangeEvent) -> None: ...

    def server_ready(self, instance: str) -> bool | None: ...


def _post(url: str, body: dict[str, object]) -> None:
    req = urllib.request.Request(url + "/admin/fault", data=json.dumps(body).encode(),
                                 method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=3.0) as r:
        r.read()


def _replica(instance: str) -> int:
    return int(instance.rsplit("-", 1)[1])


@dataclass
class LiveFault:
    """One fault: ``inject`` breaks, ``healthy`` reads the ground truth, ``end`` stops a
    fault that lasts a fixed time (a surge, an attack) or cleans up after a timeout."""

    name: str
    service: str
    target: str  # the instance or service it is on
    what: str
    security: bool = False
    lasts_s: float = 0.0  # 0: until something fixes it
    injected_at: float = 0.0
    notes: list[str] = field(default_factory=list)

    def inject(self, lab: LabHandle, now: float) -> None:
        e, g = lab.estate, lab.loadgen
        sup = e.supervisor
        assert sup is not None
        self.injected_at = now
        if self.name in ("crash_loop", "bad_deploy"):
            version = "v3-crash" if self.name == "crash_loop" else "v3-errors"
            previous = sup.status(self.service).version
            lab.record_change(ChangeEvent(now, self.service, "deploy", version, previous, "ci"))
            sup.deploy(self.service, version, timeout_s=20)
        elif self.name == "disk_fill":
            _post(e.url(self.service, _replica(self.target)),
                  {"kind": "spam", "bytes": int(VOLUME_QUOTA_BYTES * 0.95)})
        elif self.name == "cert_expiry":
            assert e.ca is not None
            e.ca.issue(self.service, e.certs, valid_s=2 * DAY, now=now)
        elif self.name == "memory_leak":
            _post(e.url(self.service, _replica(self.target)), {"kind": "leak", "value": 2.0})
        elif self.name == "bad_replica":
            _post(e.url(self.service, _replica(self.target)), {"kind": "errors", "value": 0.7})
        elif self.name == "slow_dependency":
            _post(e.url(self.service), {"kind": "slow", "value": 600})
        elif self.name == "traffic_surge":
            g.surge, g.surge_until = 3.0, now + self.lasts_s
        elif self.name == "security_anomaly":
            g.attack_source, g.attack_rps, g.attack_until = "203.0.113.77", 8.0, now + self.lasts_s

    def end(self, lab: LabHandle) -> None:
        """Stop what the fault keeps doing by itself (it never fixes what it broke)."""
        if self.name == "slow_dependency":
            try:
                _post(lab.estate.url(self.service), {"kind": "clear"})
            except OSError:
                pass

    def healthy(self, lab: LabHandle, now: float) -> bool:
        """Ground truth: is the thing this fault broke working again?"""
        e = lab.estate
        sup = e.supervisor
        assert sup is not None
        try:
            if self.name in ("crash_loop", "bad_deploy"):
                status = sup.status(self.service)
                if status.version not in GOOD_RELEASES or status.alive < status.replicas:
                    return False
                return all(e.health(self.service, i, 0.5).get("version") in GOOD_RELEASES
                           for i in range(status.replicas))
            if self.name == "disk_fill":
                used = directory_size(str(e.volume / self.target)) / VOLUME_QUOTA_BYTES
                return used < 0.5
            if self.name == "cert_expiry":
                from healops.observe.tls_probe import TlsCertificateSource, TlsTarget

                probe = TlsCertificateSource([TlsTarget("127.0.0.1", e.ports[self.service],
                                                        "localhost", self.service)])
                left = [s.value for s in probe(now) if s.key.name == "tls_cert_expiry_seconds"]
                on_disk = cert_not_after(e.certs / f"{self.service}.crt") - now
                return bool(left) and left[0] > 14 * DAY and on_disk > 14 * DAY
            if self.name in ("memory_leak", "bad_replica"):
                h = e.health(self.service, _replica(self.target), 0.5)
                faults = h.get("faults")
                ratio = h.get("memory_ratio")
                ok = not faults and isinstance(ratio, float) and ratio < 0.5
                ready = lab.server_ready(self.target)
                return ok and ready is not False
            if self.name == "slow_dependency":
                h = e.health(self.service, 0, 0.5)
                return not h.get("faults")
            if self.name == "traffic_surge":
                if now < self.injected_at + self.lasts_s:
                    return self._api_unsaturated(lab)
                return True
            if self.name == "security_anomaly":
                return now >= self.injected_at + self.lasts_s
        except (OSError, ValueError):
            return False
        return False

    @staticmethod
    def _api_unsaturated(lab: LabHandle) -> bool:
        ok, _ = lab.loadgen.sli(5.0)
        return not math.isnan(ok) and ok >= 0.99 and lab.estate.replicas("api") > 2


_SPECS: dict[str, tuple[str, str, str, bool, float]] = {
    # name: (service, target, what, security, lasts_s)
    "crash_loop": ("catalog", "catalog", "deploy v3-crash: the new config kills the process "
                   "1.5 s after start", False, 0.0),
    "disk_fill": ("api", "api-1", "debug log spam fills api-1's volume to 95%", False, 0.0),
    "cert_expiry": ("auth", "auth", "auth's certificate is replaced by one expiring in 2 days",
                    False, 0.0),
    "bad_deploy": ("orders", "orders", "deploy v3-errors: half the requests fail with 500",
                   False, 0.0),
    "bad_replica": ("api", "api-1", "api-1 alone answers 70% of requests with 500", False, 0.0),
    "security_anomaly": ("auth", "auth", "8 failed logins a second from 203.0.113.77 for 25 s",
                         True, 25.0),
    "memory_leak": ("api", "api-0", "api-0 leaks 2 MiB a second until it is OOM-killed",
                    False, 0.0),
    "slow_dependency": ("db", "db", "db answers 600 ms slower for 40 s", False, 40.0),
    "traffic_surge": ("api", "api", "3x traffic for 45 s", False, 45.0),
}

FAULTS = frozenset(_SPECS)


def make_fault(name: str) -> LiveFault:
    if name not in _SPECS:
        raise ValueError(f"unknown fault {name!r}; known: {', '.join(sorted(_SPECS))}")
    service, target, what, security, lasts = _SPECS[name]
    return LiveFault(name, service, target, what, security, lasts)
