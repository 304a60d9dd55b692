"""The wording of TLS failures: certificate verification, alerts, and what a probe detected."""

from __future__ import annotations

import ssl

from redis_preflight.config.target import Target
from redis_preflight.errors.faults import (
    Diagnosis,
    Fault,
    LegacyTls,
    PlaintextToTls,
    SanlessCertificate,
    TlsToPlaintext,
    UsernameWithoutAcl,
    _first_line,
    _Say,
)

# OpenSSL verify codes (X509_V_ERR_*) -> fault and next step.
_UNTRUSTED = "give the server's CA bundle with --tls-ca-file (a managed service publishes one)"
_VERIFY_CODES = {
    2: (Fault.TLS_UNKNOWN_CA, _UNTRUSTED),
    9: (Fault.TLS_NOT_YET_VALID, "check the clocks of this machine and of the server, or reissue it"),
    10: (Fault.TLS_EXPIRED, "renew the server certificate (tls-cert-file) and reload it"),
    18: (Fault.TLS_UNKNOWN_CA, "give that certificate, or the CA that issued it, with --tls-ca-file"),
    19: (Fault.TLS_UNKNOWN_CA, _UNTRUSTED),
    20: (Fault.TLS_UNKNOWN_CA, _UNTRUSTED),
    21: (Fault.TLS_UNKNOWN_CA, _UNTRUSTED),
}
_MISMATCH = "connect with a name the certificate lists (see test_tls_certificate) or reissue it for this one"
_OLD_PROTOCOL = 'the server offers {version}; enable TLS 1.2 and 1.3 on it (tls-protocols "TLSv1.2 TLSv1.3")'


def _verify_diagnosis(error: ssl.SSLCertVerificationError, diagnosis: _Say) -> Diagnosis:
    reason = str(error.verify_message).rstrip(".")
    if error.verify_code in (62, 64):  # hostname / IP address mismatch
        return diagnosis(Fault.TLS_HOSTNAME, f"{reason}; {_MISMATCH}")
    fault, next_step = _VERIFY_CODES.get(
        error.verify_code, (Fault.TLS_VERIFY, "fix the certificate or give its CA with --tls-ca-file")
    )
    return diagnosis(fault, f"{reason}; {next_step}")


def _tls_alert_diagnosis(upper: str, text: str, diagnosis: _Say) -> Diagnosis:
    if "PROTOCOL_VERSION" in upper or "UNSUPPORTED_PROTOCOL" in upper:
        return diagnosis(Fault.TLS_OLD_PROTOCOL, _OLD_PROTOCOL.format(version="only TLS older than 1.2"))
    if "CERTIFICATE_REQUIRED" in upper:
        return diagnosis(
            Fault.TLS_CLIENT_CERT,
            "the server requires a client certificate (tls-auth-clients yes) and none was given; "
            "pass --tls-cert-file and --tls-key-file",
        )
    if "ALERT_UNKNOWN_CA" in upper or "ALERT_BAD_CERTIFICATE" in upper:
        return diagnosis(
            Fault.TLS_CLIENT_CERT_REJECTED,
            "the server rejected the client certificate: its issuer is not in the server's "
            "tls-ca-cert-file; use a certificate that CA issued (--tls-cert-file, --tls-key-file)",
        )
    return diagnosis(Fault.TLS, f"{_first_line(text)}; check the TLS port and certificates")


def _detected_diagnosis(error: BaseException, target: Target, diagnosis: _Say) -> Diagnosis | None:
    """Failures a probe proved by a second look (the port's other protocol, the password alone)."""
    if isinstance(error, TlsToPlaintext):
        return diagnosis(
            Fault.TLS_TO_PLAINTEXT,
            "the port answers plaintext Redis, not TLS; use redis:// instead of rediss://, "
            "or the server's TLS port (tls-port)",
        )
    if isinstance(error, PlaintextToTls):
        return diagnosis(
            Fault.PLAINTEXT_TO_TLS,
            "the port speaks TLS; use rediss:// (and --tls-ca-file for a private CA)",
        )
    if isinstance(error, SanlessCertificate):
        return diagnosis(
            Fault.TLS_HOSTNAME,
            f"the certificate ({error}) lists no subjectAltName, so there is no name to connect with: "
            "clients match the host against the SANs (Go 1.15+ and browsers ignore the CN, Python "
            "reads it for a host name only, never an IP); reissue it with SANs "
            "(subjectAltName = DNS:HOST,IP:ADDRESS)",
        )
    if isinstance(error, LegacyTls):
        return diagnosis(Fault.TLS_OLD_PROTOCOL, _OLD_PROTOCOL.format(version=f"only {error}"))
    if isinstance(error, UsernameWithoutAcl):
        return diagnosis(
            Fault.NO_ACL_USER,
            f"the server rejects user {target.username!r} but accepts the password alone "
            "(requirepass only, or Redis < 6); drop the username (redis://:PASSWORD@...) or "
            f"create the user (ACL SETUSER {target.username} on >PASSWORD ~* +@all)",
        )
    return None
