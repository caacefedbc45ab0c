"""TLS certificate expiry: connect, read the peer certificate, report time left.

Each target yields ``tls_cert_expiry_seconds`` (notAfter minus ``now``; negative once
expired), ``tls_cert_not_after_timestamp_seconds`` and ``probe_success``; labels
``probe="tls"``, ``target`` (host:port) and ``service``. The certificate is read without
verifying it, because an expired or self-signed certificate is exactly what must be seen.
``fetch`` is injectable: tests pass DER bytes without a network.

>>> import datetime as dt
>>> from cryptography import x509
>>> from cryptography.hazmat.primitives import hashes, serialization
>>> from cryptography.hazmat.primitives.asymmetric import ec
>>> key = ec.generate_private_key(ec.SECP256R1())
>>> name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "api")])
>>> cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
...         .public_key(key.public_key()).serial_number(1)
...         .not_valid_before(dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
...         .not_valid_after(dt.datetime(2026, 1, 31, tzinfo=dt.UTC)).sign(key, hashes.SHA256()))
>>> der = cert.public_bytes(serialization.Encoding.DER)
>>> probe = TlsCertificateSource([TlsTarget("api", 443)], fetch=lambda host, port, sni, t: der)
>>> expiry = probe(now=1767225600.0)[0]  # 2026-01-01T00:00:00Z
>>> expiry.key.name, expiry.value / 86400
('tls_cert_expiry_seconds', 30.0)
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cryptography import x509

from healops.domain.signals import Sample, SeriesKey

__all__ = ["TlsCertificateSource", "TlsTarget", "fetch_peer_certificate"]

Fetch = Callable[[str, int, str, float], bytes]


def fetch_peer_certificate(host: str, port: int, server_name: str, timeout: float) -> bytes:
    """The DER bytes of the certificate a TLS server presents (unverified)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with (
        socket.create_connection((host, port), timeout=timeout) as sock,
        context.wrap_socket(sock, server_hostname=server_name or host) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    if not der:
        raise ssl.SSLError("the server presented no certificate")
    return der


@dataclass(frozen=True, slots=True)
class TlsTarget:
    host: str
    port: int = 443
    server_name: str = ""
    service: str = ""


class TlsCertificateSource:
    def __init__(
        self,
        targets: Sequence[TlsTarget],
        *,
        fetch: Fetch = fetch_peer_certificate,
        timeout: float = 5.0,
    ) -> None:
        self.targets = tuple(targets)
        self._fetch = fetch
        self._timeout = timeout
        self.errors: dict[str, str] = {}

    def probe(self, target: TlsTarget, now: float) -> list[Sample]:
        where = f"{target.host}:{target.port}"
        labels = {"probe": "tls", "target": where, "service": target.service}

        def sample(name: str, value: float) -> Sample:
            return Sample(SeriesKey.from_mapping(name, labels), value, now)

        try:
            der = self._fetch(target.host, target.port, target.server_name, self._timeout)
            not_after = x509.load_der_x509_certificate(der).not_valid_after_utc.timestamp()
        except (OSError, ValueError) as exc:
            self.errors[where] = repr(exc)
            return [sample("probe_success", 0.0)]
        self.errors.pop(where, None)
        return [
            sample("tls_cert_expiry_seconds", not_after - now),
            sample("tls_cert_not_after_timestamp_seconds", not_after),
            sample("probe_success", 1.0),
        ]

    def __call__(self, now: float) -> list[Sample]:
        return [s for target in self.targets for s in self.probe(target, now)]
