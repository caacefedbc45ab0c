"""The lab's certificate authority, and the executor that renews a service's certificate.

The CA lives in the lab directory and signs leaf certificates for ``localhost`` and
``127.0.0.1``. A leaf is written atomically (temporary file, then rename), so a service
that reloads on change never reads half a certificate.

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as d:
...     ca = LabCA.create(Path(d), now=1_767_225_600.0)
...     leaf = ca.issue("auth", Path(d), valid_s=3600, now=1_767_225_600.0)
...     round(cert_not_after(leaf.cert) - 1_767_225_600.0)
3600
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from healops.act import validate
from healops.act.base import ActionError, StepRequest
from healops.domain.actions import ActionResult

__all__ = ["CertIssuerExecutor", "LabCA", "LeafFiles", "cert_not_after"]

DAY = 86_400.0


@dataclass(frozen=True, slots=True)
class LeafFiles:
    cert: Path
    key: Path


def _ts(t: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(t, tz=dt.UTC)


def cert_not_after(path: Path) -> float:
    return x509.load_pem_x509_certificate(path.read_bytes()).not_valid_after_utc.timestamp()


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


class LabCA:
    """A self-signed EC P-256 root; ``issue`` signs leaves for the loopback services."""

    def __init__(self, key: ec.EllipticCurvePrivateKey, cert: x509.Certificate,
                 path: Path) -> None:
        self.key = key
        self.cert = cert
        self.path = path  # the CA certificate, PEM, for clients to trust

    @classmethod
    def create(cls, directory: Path, *, now: float) -> LabCA:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "healops live lab CA")])
        cert = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(_ts(now - 60)).not_valid_after(_ts(now + 365 * DAY))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True,
                                         crl_sign=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .sign(key, hashes.SHA256())
        )
        path = directory / "lab-ca.pem"
        _write_atomic(path, cert.public_bytes(serialization.Encoding.PEM))
        return cls(key, cert, path)

    def issue(self, service: str, directory: Path, *, valid_s: float, now: float) -> LeafFiles:
        validate.name(service, field="service")
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, service)]))
            .issuer_name(self.cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(_ts(now - 60)).not_valid_after(_ts(now + valid_s))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.DNSName(service),
                x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        files = LeafFiles(directory / f"{service}.crt", directory / f"{service}.key")
        _write_atomic(files.key, key.private_bytes(serialization.Encoding.PEM,
                                                   serialization.PrivateFormat.PKCS8,
                                                   serialization.NoEncryption()))
        _write_atomic(files.cert, cert.public_bytes(serialization.Encoding.PEM))
        return files


class CertIssuerExecutor:
    """``renew_cert`` for the services that hold a lab certificate; the service reloads it.

    Idempotent per key, and a no-op (``changed=False``) when the current certificate already
    has more than ``renew_before_s`` left.
    """

    def __init__(self, ca: LabCA, directory: Path, services: set[str], *,
                 now: Callable[[], float], valid_s: float = 90 * DAY,
                 renew_before_s: float = 14 * DAY,
                 ledger: validate.IdempotencyLedger | None = None) -> None:
        self.ca = ca
        self.directory = directory
        self.services = services
        self.now = now
        self.valid_s = valid_s
        self.renew_before_s = renew_before_s
        self._ledger = ledger or validate.IdempotencyLedger()

    def execute(self, step: StepRequest, *, key: str, dry_run: bool = False) -> ActionResult:
        validate.check_key(key)
        validate.check_action(step, frozenset({"renew_cert"}), "CertIssuerExecutor")
        service = validate.name(step.target)
        if service not in self.services:
            raise ActionError(f"{service} holds no lab certificate; known: "
                              f"{', '.join(sorted(self.services))}", retryable=False)
        if dry_run:
            return ActionResult(True, f"dry run: would renew {service}", changed=False)
        return self._ledger.apply(key, step, lambda: self._renew(service))

    def _renew(self, service: str) -> ActionResult:
        now = self.now()
        current = self.directory / f"{service}.crt"
        left = cert_not_after(current) - now if current.exists() else -1.0
        if left > self.renew_before_s:
            return ActionResult(True, f"{service}: certificate has {left / DAY:.0f} days left",
                                changed=False)
        self.ca.issue(service, self.directory, valid_s=self.valid_s, now=now)
        return ActionResult(True, f"{service}: issued a {self.valid_s / DAY:.0f}-day certificate"
                            f" (was {left / DAY:.1f} days)")
