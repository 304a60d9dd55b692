"""TLS: nobody can listen in or pose as the server; the certificate is valid and will stay so."""

from datetime import UTC, datetime

import pytest

from redis_preflight.config.profiles import Profile, Severity
from redis_preflight.verdict.outcomes import not_applicable, unverified

pytestmark = pytest.mark.area("tls")

BLOCKING_DAYS = 7  # a certificate this close to expiry blocks a production deploy


@pytest.mark.severity("advisory", production="blocking")
def test_tls_required(preflight, hosting, finding):
    target = preflight.target
    if target.is_unix or (preflight.profile is Profile.LOCAL and not target.tls):
        finding.observed(f"plaintext {target.scheme}:// in the local profile: nothing leaves this machine")
        return
    where = f" (on {hosting.provider}, {hosting.provider.tls})" if hosting.provider else ""
    assert target.tls, (
        f"plaintext redis:// in the {preflight.profile} profile: the password and every value cross "
        f"the network readable; use the server's TLS port with rediss://{where} (production requires it)"
    )
    finding.observed("rediss://: credentials and data are encrypted in transit")


@pytest.mark.severity("blocking")
def test_tls_handshake(preflight, reachability, finding):
    if not preflight.target.tls:
        not_applicable("plaintext target (redis://): no TLS to check")
    if reachability.stopped_before("tls"):
        unverified(f"target unreachable: {reachability.failure}")
    assert reachability.failed_stage != "tls", str(reachability.failure)
    session, settings = reachability.tls, preflight.settings
    trusted = f"--tls-ca-file {settings.tls_ca_file.name}" if settings.tls_ca_file else "the system store"
    checked = "not verified (--tls-insecure)" if settings.tls_insecure else f"verified against {trusted}"
    client = ", client certificate given" if settings.tls_cert_file else ""
    finding.observed(f"{session.protocol} {session.cipher} in {session.elapsed_ms:.1f} ms, {checked}{client}")


@pytest.mark.severity("advisory")
def test_tls_setup(preflight, reachability, finding):
    """What a new TLS connection costs the client, apart from the PING round trip it carries."""
    if not preflight.target.tls:
        not_applicable("plaintext target (redis://): no TLS set-up to time")
    if reachability.handshake is None:
        unverified(f"no connection was set up: {reachability.failure}")
    handshake, timeout_s = reachability.handshake, preflight.settings.socket_timeout
    shown = (
        f"a new TLS connection (TCP, handshake, AUTH, first PING) takes {handshake.setup_ms:.1f} ms; "
        f"the PING round trip alone {handshake.elapsed_ms:.2f} ms"
    )
    assert handshake.setup_ms <= timeout_s * 1000 / 2, (
        f"{shown}: over half the {timeout_s:g} s socket timeout; keep connections open (a pool) "
        "or find the slow stage in test_setup_time"
    )
    finding.observed(shown)


@pytest.mark.severity("advisory")
def test_tls_verified(preflight, tls_session, tls_verification, finding):
    insecure = preflight.settings.tls_insecure
    if not insecure and not tls_session.verified:
        unverified("the handshake rejected the certificate: see test_tls_handshake")
    verdict = (
        f"a verified handshake fails: {tls_verification}"
        if tls_verification
        else ("a verified handshake succeeds, so drop --tls-insecure")
    )
    assert not insecure, (
        "--tls-insecure: the certificate was not verified, so the connection was not authenticated "
        f"(anyone on the path could pose as the server); {verdict}"
    )
    finding.observed("the certificate chains to a trusted CA and names this host")


@pytest.mark.severity("advisory")
def test_tls_certificate(preflight, tls_session, finding):
    cert, now = tls_session.certificate, datetime.now(UTC)
    days = cert.days_left(now)
    shown = (
        f"subject {cert.subject}; SANs {', '.join(cert.names) or 'none'}; issuer {cert.issuer}; "
        f"valid {cert.not_before:%Y-%m-%d} to {cert.not_after:%Y-%m-%d} ({days:.0f} days left); "
        f"chain of {tls_session.chain_length}"
    )
    production = preflight.profile is Profile.PRODUCTION
    if days < 0 or now < cert.not_before or (production and days < BLOCKING_DAYS):
        finding.escalate(Severity.BLOCKING)
    assert cert.names, (
        "certificate lists no subjectAltName: clients that follow RFC 6125 (Go 1.15+, browsers) ignore "
        "the CN and refuse it, and none accepts it for an IP address; reissue it with SANs "
        f"(subjectAltName = DNS:HOST,IP:ADDRESS) ({shown})"
    )
    assert now >= cert.not_before, f"certificate not valid yet: check the clocks or reissue it ({shown})"
    assert days >= 0, f"certificate expired {-days:.0f} days ago: renew it on the server ({shown})"
    min_days = preflight.settings.tls_min_days
    assert days >= min_days, (
        f"certificate expires in {days:.0f} days, under --tls-min-days {min_days}: renew it ({shown})"
    )
    finding.observed(shown)


@pytest.mark.severity("advisory", production="blocking")
def test_plaintext_closed_beside_tls(preflight, plaintext_port, finding):
    where = f"{preflight.target.host}:{plaintext_port.port}"
    assert plaintext_port.reply is None, (
        f"{where} answers plaintext Redis ({plaintext_port.reply}) beside the TLS port: a client that "
        "forgets rediss:// sends its password in clear; close it (port 0 in redis.conf, keep tls-port) "
        "or firewall it (--plaintext-port 0 skips this probe)"
    )
    finding.observed(f"nothing answers plaintext Redis on {where}")
