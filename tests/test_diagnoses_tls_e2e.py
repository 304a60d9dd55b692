"""TLS diagnoses that stay true on real deployments (issue 14): real TLS redis-servers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from helpers.tls import CertFiles, Pki, TlsRedis, make_pki, start_tls_redis


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def good_tls(redis_factory, pki) -> TlsRedis:
    return start_tls_redis(redis_factory, pki, pki.issue("redis.test"))


def test_ping_reports_the_round_trip_and_tls_setup_apart(run_preflight, good_tls, pki):
    outcome = run_preflight("--redis-url", good_tls.url, "--tls-ca-file", str(pki.ca_file))
    assert outcome.returncode == 0, outcome.output
    ping = outcome.check("test_ping")["message"]
    assert ping.endswith(" ms (round trip on an open connection)")
    setup = outcome.check("test_tls_setup")
    assert setup["area"] == "tls"
    assert setup["message"].startswith("a new TLS connection (TCP, handshake, AUTH, first PING) takes ")
    round_trip = float(ping.removeprefix("PONG in ").split(" ms")[0])
    set_up = float(setup["message"].split(" takes ")[1].split(" ms")[0])
    assert round_trip < set_up, (ping, setup["message"])


def sanless(directory: Path) -> tuple[Path, CertFiles]:
    """A CA and a leaf naming `localhost` only in its CN, no subjectAltName (trustme always adds one),
    as `openssl req -subj /CN=localhost` without `-addext subjectAltName` makes it."""
    now = datetime.now(UTC)

    def build(subject: str, issuer: x509.Name | None, signer, public_key, ca: bool) -> x509.Certificate:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
        return (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(issuer or name)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .sign(signer, hashes.SHA256())
        )

    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = build("Sanless Test CA", None, ca_key, ca_key.public_key(), ca=True)
    leaf = build("localhost", ca.subject, ca_key, leaf_key.public_key(), ca=False)
    pem = serialization.Encoding.PEM
    (directory / "sanless-ca.pem").write_bytes(ca.public_bytes(pem))
    (directory / "sanless.pem").write_bytes(leaf.public_bytes(pem))
    (directory / "sanless.key").write_bytes(
        leaf_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return directory / "sanless-ca.pem", CertFiles(directory / "sanless.pem", directory / "sanless.key")


@pytest.fixture(scope="module")
def sanless_tls(redis_factory, pki, tmp_path_factory) -> tuple[Path, TlsRedis]:
    ca_file, cert = sanless(tmp_path_factory.mktemp("sanless"))
    return ca_file, start_tls_redis(redis_factory, pki, cert)


def test_certificate_without_san_has_no_name_to_connect_with(run_preflight, sanless_tls):
    ca_file, server = sanless_tls
    url = f"rediss://127.0.0.1:{server.tls_port}/0"
    outcome = run_preflight("--redis-url", url, "--tls-ca-file", str(ca_file), "--plaintext-port", "0")
    handshake = outcome.check("test_tls_handshake")
    assert handshake["outcome"] == "failed"
    assert handshake["message"] == (
        f"TLS hostname mismatch at 127.0.0.1:{server.tls_port}: the certificate (CN=localhost) lists no "
        "subjectAltName, so there is no name to connect with: clients match the host against the SANs "
        "(Go 1.15+ and browsers ignore the CN, Python reads it for a host name only, never an IP); "
        "reissue it with SANs (subjectAltName = DNS:HOST,IP:ADDRESS)"
    )
    assert "connect with a name the certificate lists" not in outcome.output
    certificate = outcome.check("test_tls_certificate")
    assert certificate["outcome"] == "advisory"
    assert certificate["message"].startswith(
        "certificate lists no subjectAltName: clients that follow RFC 6125"
    )


def test_certificate_without_san_reached_by_its_cn_is_flagged(run_preflight, sanless_tls):
    ca_file, server = sanless_tls
    url = f"rediss://localhost:{server.tls_port}/0"
    outcome = run_preflight("--redis-url", url, "--tls-ca-file", str(ca_file), "--plaintext-port", "0")
    assert outcome.check("test_tls_handshake")["outcome"] == "passed"  # redis-py reads the CN
    certificate = outcome.check("test_tls_certificate")
    assert (certificate["outcome"], certificate["severity"]) == ("advisory", "advisory")
    assert "SANs none" in certificate["message"]
    assert certificate["message"].startswith(
        "certificate lists no subjectAltName: clients that follow RFC 6125"
    )
