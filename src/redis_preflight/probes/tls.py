"""TLS as the client meets it: the handshake, the certificate, and plaintext left open beside it."""

from __future__ import annotations

import socket
import ssl
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509

from redis_preflight.compat.ssl import unverified_chain
from redis_preflight.config.settings import PreflightSettings
from redis_preflight.config.target import Target
from redis_preflight.errors import (
    Diagnosis,
    LegacyTls,
    PlaintextToTls,
    SanlessCertificate,
    TlsToPlaintext,
    classify,
)
from redis_preflight.probes.bounds import deadline
from redis_preflight.probes.client import tls_context


@dataclass(frozen=True)
class Certificate:
    """The server's leaf certificate, as the report shows it."""

    subject: str
    issuer: str
    names: tuple[str, ...]  # subjectAltName: DNS names and IP addresses
    not_before: datetime
    not_after: datetime

    def days_left(self, now: datetime | None = None) -> float:
        return (self.not_after - (now or datetime.now(UTC))).total_seconds() / 86400


@dataclass(frozen=True)
class TlsSession:
    protocol: str
    cipher: str
    certificate: Certificate
    chain_length: int  # certificates the server sent, leaf included
    verified: bool  # False with --tls-insecure
    elapsed_ms: float


def handshake(
    sock: socket.socket, target: Target, settings: PreflightSettings
) -> tuple[ssl.SSLSocket, TlsSession]:
    """TLS over an open connection with the run's own context, timed.

    Bounded by the socket timeout, as redis-py bounds it (the connect timeout covers TCP only).
    """
    context = tls_context(settings)  # loading the trust store is not part of the handshake
    sock.settimeout(settings.socket_timeout)
    started = time.perf_counter()
    # The socket timeout is per read: a handshake trickled a byte at a time needs a deadline.
    with deadline(sock, settings.socket_timeout):
        tls = context.wrap_socket(sock, server_hostname=target.host)
    elapsed_ms = (time.perf_counter() - started) * 1000
    return tls, session_of(tls, verified=not settings.tls_insecure, elapsed_ms=elapsed_ms)


def session_of(tls: ssl.SSLSocket, verified: bool, elapsed_ms: float) -> TlsSession:
    der = tls.getpeercert(binary_form=True)
    if der is None:
        raise ssl.SSLError("the server presented no certificate")
    cipher = tls.cipher()
    return TlsSession(
        protocol=tls.version() or "unknown",
        cipher=cipher[0] if cipher else "unknown",
        certificate=certificate_of(der),
        chain_length=_chain_length(tls),
        verified=verified,
        elapsed_ms=elapsed_ms,
    )


def certificate_of(der: bytes) -> Certificate:
    cert = x509.load_der_x509_certificate(der)
    try:
        alt = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = (*alt.get_values_for_type(x509.DNSName), *map(str, alt.get_values_for_type(x509.IPAddress)))
    except x509.ExtensionNotFound:
        names = ()
    return Certificate(
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        names=tuple(names),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
    )


def _chain_length(tls: ssl.SSLSocket) -> int:
    return len(unverified_chain(tls))


def presented(target: Target, settings: PreflightSettings) -> TlsSession:
    """The certificate the server presents, unverified: to show one the handshake rejected."""
    started = time.perf_counter()
    with _connect(target, settings) as sock, _handshake_unverified(sock, target, settings) as tls:
        return session_of(tls, verified=False, elapsed_ms=(time.perf_counter() - started) * 1000)


def _handshake_unverified(sock: socket.socket, target: Target, settings: PreflightSettings) -> ssl.SSLSocket:
    return tls_context(settings, verify=False).wrap_socket(sock, server_hostname=target.host)


def verification(target: Target, settings: PreflightSettings) -> Diagnosis | None:
    """What a verified handshake says (None: it succeeds); run when --tls-insecure skipped it."""
    try:
        with _connect(target, settings) as sock, deadline(sock, settings.socket_timeout):
            tls_context(settings, verify=True).wrap_socket(sock, server_hostname=target.host).close()
    except OSError as e:
        return classify(e, target, stage="tls")
    return None


def plaintext_reply(target: Target, port: int, settings: PreflightSettings) -> str | None:
    """The first line a plaintext PING gets on `port` (+PONG, -NOAUTH ...), or None."""
    try:
        with socket.create_connection((target.host, port), timeout=settings.connect_timeout) as sock:
            sock.settimeout(settings.socket_timeout)
            sock.sendall(settings.command_names.wire(b"PING") + b"\r\n")
            with deadline(sock, settings.socket_timeout), sock.makefile("rb") as stream:
                line = stream.readline(256)
    except OSError:
        return None
    text = line.decode(errors="replace").strip()
    return text if text.startswith(("+", "-")) else None


@dataclass(frozen=True)
class PlaintextPort:
    """What a plaintext client meets on the probe port beside the TLS one."""

    port: int
    reply: str | None  # None: nothing answers plaintext Redis there


def plaintext_beside(target: Target, settings: PreflightSettings) -> PlaintextPort:
    port = settings.plaintext_port
    return PlaintextPort(port, plaintext_reply(target, port, settings))


def speaks_tls(target: Target, settings: PreflightSettings) -> bool:
    """Does the port complete a TLS handshake (any certificate)?"""
    try:
        with _connect(target, settings) as sock, _handshake_unverified(sock, target, settings):
            return True
    except OSError:
        return False


def legacy_protocol(target: Target, settings: PreflightSettings) -> str | None:
    """The TLS version a server that refused 1.2+ does speak, if any (e.g. "TLSv1.1")."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    context.set_ciphers("DEFAULT:@SECLEVEL=0")  # OpenSSL 3 refuses TLS < 1.2 at the default level
    try:
        with _connect(target, settings) as sock:
            with context.wrap_socket(sock, server_hostname=target.host) as tls:
                return tls.version()
    except OSError:
        return None


def explain(error: Exception, target: Target, settings: PreflightSettings, stage: str) -> Exception:
    """A second look that turns a guess into a fact: what the port really speaks, what it wants.

    TLS spoken to a plaintext port shows as a hang, and plaintext to a TLS port as a reset.
    With TLS 1.3 the server judges the client certificate after the handshake, and its alert
    races our first command: a hang-up then is looked at again, the server speaking first.
    """
    detected: Exception | None = None
    settings = _second_look(settings)
    if stage == "tls" and isinstance(error, ssl.SSLCertVerificationError):
        detected = _sanless(error, target, settings)
    elif stage == "tls":
        if _mentions(error, "PROTOCOL_VERSION", "UNSUPPORTED_PROTOCOL"):
            version = legacy_protocol(target, settings)
            detected = LegacyTls(version) if version else None
        elif plaintext_reply(target, target.port, settings) is not None:
            detected = TlsToPlaintext("the port answered a plaintext PING")
    elif stage == "auth" and _hung_up(error):
        if target.tls:
            detected = server_alert(target, settings)
        elif not target.is_unix and speaks_tls(target, settings):
            detected = PlaintextToTls("the port completed a TLS handshake")
    if detected is None:
        return error
    detected.__cause__ = error
    return detected


def _sanless(
    error: ssl.SSLCertVerificationError, target: Target, settings: PreflightSettings
) -> SanlessCertificate | None:
    """A hostname mismatch on a certificate with no subjectAltName: no name could ever match."""
    if error.verify_code not in (62, 64):  # X509_V_ERR_HOSTNAME_MISMATCH, IP_ADDRESS_MISMATCH
        return None
    try:
        certificate = presented(target, settings).certificate
    except OSError:
        return None
    return None if certificate.names else SanlessCertificate(certificate.subject)


# A second look follows a failure already paid for: it must not cost a second full timeout.
SECOND_LOOK_S = 1.0


def _second_look(settings: PreflightSettings) -> PreflightSettings:
    return settings.model_copy(
        update={
            "connect_timeout": min(settings.connect_timeout, SECOND_LOOK_S),
            "socket_timeout": min(settings.socket_timeout, SECOND_LOOK_S),
        }
    )


def server_alert(target: Target, settings: PreflightSettings) -> ssl.SSLError | None:
    """The alert a TLS server sends right after the handshake (a client certificate it requires
    or rejects), read before sending anything so that no reset can overtake it."""
    try:
        with _connect(target, settings) as sock:
            tls, _ = handshake(sock, target, settings)
            with tls:
                tls.settimeout(settings.socket_timeout)
                tls.recv(1)
    except ssl.SSLEOFError:
        return None
    except ssl.SSLError as e:
        return e
    except OSError:
        return None
    return None


def _hung_up(error: Exception) -> bool:
    if isinstance(error, (ssl.SSLEOFError, ConnectionResetError, BrokenPipeError)):
        return True
    return _mentions(error, "CLOSED BY SERVER")


def _mentions(error: Exception, *words: str) -> bool:
    text = str(error).upper()
    return any(word in text for word in words)


def _connect(target: Target, settings: PreflightSettings) -> socket.socket:
    """As redis-py does: the TCP connect under the connect timeout, all after under the socket's."""
    sock = socket.create_connection((target.host, target.port), timeout=settings.connect_timeout)
    sock.settimeout(settings.socket_timeout)
    return sock
