"""Certificates for every TLS case, generated in the test session, and TLS redis-servers using them.

trustme issues CA-signed certificates (including expired, not-yet-valid, soon-expiring and
wrong-host ones); cryptography makes the one trustme cannot: a self-signed leaf.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from redis_preflight.ephemeral.local_server import LocalRedis, free_port

LOOPBACK = ("127.0.0.1", "localhost")


@dataclass(frozen=True)
class CertFiles:
    cert: Path
    key: Path


@dataclass(frozen=True)
class Pki:
    """Our CA (given with --tls-ca-file), another CA nobody trusts, and their certificates."""

    directory: Path
    ca: trustme.CA
    other_ca: trustme.CA
    ca_file: Path

    def issue(
        self, name: str, *identities: str, ca: trustme.CA | None = None, **dates: datetime
    ) -> CertFiles:
        """A leaf for `identities` (default: loopback), valid a year unless dates say otherwise."""
        now = datetime.now(UTC)
        dates.setdefault("not_before", now - timedelta(days=1))
        dates.setdefault("not_after", now + timedelta(days=365))
        leaf = (ca or self.ca).issue_cert(*(identities or LOOPBACK), common_name=name, **dates)
        return CertFiles(
            self._write(f"{name}.pem", leaf.cert_chain_pems[0].bytes()),
            self._write(f"{name}.key", leaf.private_key_pem.bytes()),
        )

    def self_signed(self, name: str) -> CertFiles:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = datetime.now(UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=365))
            .add_extension(
                x509.SubjectAlternativeName(
                    [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
                ),
                critical=False,
            )
            .sign(key, hashes.SHA256())
        )
        key_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return CertFiles(
            self._write(f"{name}.pem", cert.public_bytes(serialization.Encoding.PEM)),
            self._write(f"{name}.key", key_pem),
        )

    def _write(self, name: str, data: bytes) -> Path:
        path = self.directory / name
        path.write_bytes(data)
        return path


def make_pki(directory: Path) -> Pki:
    ca, other_ca = trustme.CA(organization_name="Preflight Test CA"), trustme.CA(organization_name="Other CA")
    ca_file = directory / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return Pki(directory, ca, other_ca, ca_file)


@dataclass(frozen=True)
class TlsRedis:
    server: LocalRedis
    tls_port: int
    plaintext_port: int | None  # None: plaintext disabled (port 0)

    @property
    def url(self) -> str:
        return f"rediss://127.0.0.1:{self.tls_port}/0"


def start_tls_redis(
    redis_factory: Callable[..., LocalRedis],
    pki: Pki,
    cert: CertFiles,
    *directives: str,
    plaintext: bool = False,
) -> TlsRedis:
    """A redis-server speaking TLS on its own port; plaintext beside it only when asked."""
    tls_port = free_port()
    server = redis_factory(
        *([] if plaintext else ["port 0"]),
        f"tls-port {tls_port}",
        f'tls-cert-file "{cert.cert}"',
        f'tls-key-file "{cert.key}"',
        f'tls-ca-cert-file "{pki.ca_file}"',
        "tls-auth-clients no",
        *directives,
        wait_port=tls_port,
    )
    return TlsRedis(server, tls_port, server.port if plaintext else None)
