from __future__ import annotations

import datetime as dt
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from healops.observe.tls_probe import TlsCertificateSource, TlsTarget

NOT_AFTER = dt.datetime(2030, 6, 1, tzinfo=dt.UTC)


def self_signed(tmp: Path) -> tuple[Path, Path, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "localhost")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
        .not_valid_after(NOT_AFTER)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path, cert.public_bytes(serialization.Encoding.DER)


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[int]:
    """A loopback TLS server that completes handshakes until the test ends."""
    cert, key, _ = self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            try:
                with context.wrap_socket(conn, server_side=True):
                    pass
            except (ssl.SSLError, OSError):
                conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        listener.close()


def test_reads_the_expiry_of_a_real_tls_server(tls_server: int) -> None:
    probe = TlsCertificateSource([TlsTarget("127.0.0.1", tls_server, service="api")])
    now = NOT_AFTER.timestamp() - 86400
    samples = {s.key.name: s for s in probe(now=now)}
    assert samples["tls_cert_expiry_seconds"].value == 86400.0
    assert samples["tls_cert_not_after_timestamp_seconds"].value == NOT_AFTER.timestamp()
    assert samples["probe_success"].value == 1.0
    assert samples["probe_success"].key.label("target") == f"127.0.0.1:{tls_server}"


def test_an_expired_certificate_has_negative_time_left(tmp_path: Path) -> None:
    _, _, der = self_signed(tmp_path)
    probe = TlsCertificateSource([TlsTarget("x")], fetch=lambda h, p, n, t: der)
    (left, *_) = probe(now=NOT_AFTER.timestamp() + 10)
    assert left.value == -10.0


def test_connection_failures_and_garbage_are_failed_probes() -> None:
    def refuse(host: str, port: int, name: str, timeout: float) -> bytes:
        raise ConnectionRefusedError(111, "refused")

    probe = TlsCertificateSource(
        [TlsTarget("a"), TlsTarget("b")],
        fetch=lambda h, p, n, t: refuse(h, p, n, t) if h == "a" else b"not a certificate",
    )
    samples = probe(now=0.0)
    assert [(s.key.name, s.value) for s in samples] == [("probe_success", 0.0)] * 2
    assert set(probe.errors) == {"a:443", "b:443"}


def test_nothing_listening_is_a_failed_probe() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    probe = TlsCertificateSource([TlsTarget("127.0.0.1", port)], timeout=1.0)
    assert [s.value for s in probe(now=0.0)] == [0.0]
