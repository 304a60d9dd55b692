"""Connection: the name resolves, the port answers, Redis says PONG in the right db."""

import pytest

from redis_preflight.verdict.outcomes import not_applicable, unverified

pytestmark = pytest.mark.area("connection")

SEED_CEILING_S = 10.0  # the seed's timeout for slow networks; more stalls a verdict


@pytest.mark.severity("blocking")
def test_dns_resolves(preflight, reachability, finding):
    if preflight.target.is_unix:
        not_applicable("unix socket: no name to resolve")
    assert reachability.failed_stage != "dns", str(reachability.failure)
    resolution = reachability.resolution
    finding.observed(
        f"{preflight.target.host} -> {', '.join(resolution.addresses)} in {resolution.elapsed_ms:.1f} ms"
    )


@pytest.mark.severity("blocking")
def test_tcp_connect(reachability, finding):
    if reachability.stopped_before("connect"):
        unverified(f"target unreachable: {reachability.failure}")
    assert reachability.failed_stage != "connect", str(reachability.failure)
    finding.observed(f"connected to {reachability.tcp.peer} in {reachability.tcp.elapsed_ms:.2f} ms")


# A failure after the TCP connect that another check reports.
REPORTED_BY = {
    "tls": "the TLS handshake failed: see test_tls_handshake",
    "auth": "authentication failed: see test_authenticated",
    "select": "the server answered, but SELECT failed: see test_db_selectable",
}


@pytest.mark.severity("blocking")
def test_ping(reachability, finding):
    if reachability.stopped_before("tls"):
        unverified(f"target unreachable: {reachability.failure}")
    if reachability.failed_stage in REPORTED_BY:
        unverified(REPORTED_BY[reachability.failed_stage])
    assert reachability.ok, str(reachability.failure)
    handshake = reachability.handshake
    assert handshake.refused_writes is None, str(handshake.refused_writes)
    finding.observed(f"PONG in {handshake.elapsed_ms:.2f} ms (round trip on an open connection)")


@pytest.mark.severity("blocking")
def test_db_selectable(preflight, reachability, finding):
    if reachability.stopped_before("select"):
        unverified(f"target unreachable: {reachability.failure}")
    assert reachability.ok, str(reachability.failure)
    finding.observed(f"db {preflight.target.db} selected")


@pytest.mark.severity("advisory")
def test_server_identity(preflight, server_identity, finding):
    served = f"; ephemeral via {preflight.provider}" if preflight.provider else ""
    assert server_identity.version != "unknown", "INFO gave no redis_version: is this Redis?"
    finding.observed(f"{server_identity}{served}")


@pytest.mark.severity("advisory")
def test_client_settings(preflight, finding):
    settings = preflight.settings
    slowest = max(settings.connect_timeout, settings.socket_timeout)
    assert slowest <= SEED_CEILING_S, (
        f"timeouts connect {settings.connect_timeout:g} s / socket {settings.socket_timeout:g} s: "
        f"above {SEED_CEILING_S:g} s a stalled server stalls the verdict; lower them "
        "(--connect-timeout, --socket-timeout)"
    )
    finding.observed(
        f"connect timeout {settings.connect_timeout:g} s, socket timeout "
        f"{settings.socket_timeout:g} s, no retries"
    )


@pytest.mark.severity("blocking")
def test_write_round_trip(write_round_trip, finding):
    trip = write_round_trip
    assert trip.matched, f"SET then GET of {trip.key} returned another value: is this a proxy?"
    finding.observed(f"SET/GET/DEL {trip.key} in {trip.elapsed_ms:.2f} ms (30 s TTL)")


@pytest.mark.severity("advisory")
def test_setup_time(reachability, connection_setup, finding):
    """TCP connect, TLS handshake and AUTH, each timed: what every new connection costs."""
    if reachability.stopped_before("command"):
        unverified(f"target unreachable: {reachability.failure}")
    near = [
        f"{stage.name} over half its {stage.timeout_s:g} s timeout"
        for stage in connection_setup.near_timeouts
    ]
    assert not near, (
        f"connection set-up near its timeouts: {', '.join(near)} ({connection_setup}); a slower moment will "
        "time out: find the slow stage (network, TLS, AUTH) or raise --connect-timeout/--socket-timeout"
    )
    finding.observed(str(connection_setup))
