"""The TLS area end to end: real TLS redis-servers, one per certificate case, through the console script."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from helpers import faults
from helpers.outcomes import FAST, expect
from helpers.tls import CertFiles, Pki, TlsRedis, make_pki, start_tls_redis

from conftest import PASSWORD
from redis_preflight.ephemeral.local_server import LocalRedis, free_port

ACL_PASSWORD = "tls:s3cr%t@/pass"  # every character a URL must encode
NOW = datetime.now(UTC)


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def tls_redis(redis_factory: Callable[..., LocalRedis], pki: Pki) -> Callable[[str], TlsRedis]:
    """The TLS server of a named case, started once per session."""
    days = timedelta(days=1)
    cases: dict[str, Callable[[], TlsRedis]] = {
        "good": lambda: start(pki.issue("redis.test")),
        "unknown_ca": lambda: start(pki.issue("stranger", ca=pki.other_ca)),
        "self_signed": lambda: start(pki.self_signed("selfie")),
        "wrong_host": lambda: start(pki.issue("elsewhere.test", "wrong.example")),
        "expired": lambda: start(pki.issue("old", not_before=NOW - 90 * days, not_after=NOW - 2 * days)),
        "not_yet_valid": lambda: start(pki.issue("early", not_before=NOW + 10 * days)),
        "expiring": lambda: start(pki.issue("soon", not_after=NOW + 5.5 * days)),
        "legacy": lambda: start(
            pki.issue("legacy"), 'tls-protocols "TLSv1.1"', 'tls-ciphers "DEFAULT:@SECLEVEL=0"'
        ),
        "mutual": lambda: start(
            pki.issue("mutual.test"), "tls-auth-clients yes", f"user app on >{ACL_PASSWORD} ~* &* +@all"
        ),
        "with_plaintext": lambda: start(pki.issue("both.test"), plaintext=True),
    }
    started: dict[str, TlsRedis] = {}

    def start(cert: CertFiles, *directives: str, plaintext: bool = False) -> TlsRedis:
        return start_tls_redis(redis_factory, pki, cert, *directives, plaintext=plaintext)

    def server(case: str) -> TlsRedis:
        if case not in started:
            started[case] = cases[case]()
        return started[case]

    return server


def ca_args(pki: Pki, *, plaintext_port: int = 0) -> tuple[str, ...]:
    return ("--tls-ca-file", str(pki.ca_file), "--plaintext-port", str(plaintext_port), *FAST)


def test_verified_tls_passes_and_reports_the_session(run_preflight, tls_redis, pki):
    outcome = run_preflight("--redis-url", tls_redis("good").url, *ca_args(pki, plaintext_port=free_port()))
    assert outcome.returncode == 0, outcome.output
    handshake = expect(outcome, "test_tls_handshake", "passed", "blocking", "TLSv1.3 ")
    assert "verified against --tls-ca-file ca.pem" in handshake["message"]
    certificate = expect(outcome, "test_tls_certificate", "passed", "advisory", "subject CN=redis.test,")
    for shown in (
        "SANs localhost, 127.0.0.1",
        "(365 days left)",
        "O=Preflight Test CA",
        "days left",
        "chain of ",
    ):
        assert shown in certificate["message"]
    expect(outcome, "test_tls_verified", "passed", "advisory", "the certificate chains to a trusted CA")
    expect(outcome, "test_tls_required", "passed", "advisory", "rediss://: credentials and data")
    expect(outcome, "test_plaintext_closed_beside_tls", "passed", "advisory", "nothing answers plaintext")
    setup = expect(outcome, "test_setup_time", "passed", "advisory", "TCP ")
    assert ", TLS " in setup["message"]
    assert "first PING (no AUTH) " in setup["message"]


# case: the handshake's fault and cause; the certificate check's outcome, severity and message.
REJECTED = {
    "unknown_ca": (
        ("TLS certificate not trusted", "unable to get local issuer certificate; give the server's CA"),
        ("passed", "advisory", "subject CN=stranger,"),
    ),
    "self_signed": (
        ("TLS certificate not trusted", "self-signed certificate; give that certificate, or the CA"),
        ("passed", "advisory", "subject CN=selfie; SANs localhost, 127.0.0.1; issuer CN=selfie"),
    ),
    "wrong_host": (
        ("TLS hostname mismatch", "IP address mismatch, certificate is not valid for '127.0.0.1'; connect"),
        ("passed", "advisory", "subject CN=elsewhere.test,"),
    ),
    "expired": (
        ("TLS certificate expired", "certificate has expired; renew the server certificate"),
        ("failed", "blocking", "certificate expired 2 days ago: renew it on the server (subject CN=old,"),
    ),
    "not_yet_valid": (
        ("TLS certificate not yet valid", "certificate is not yet valid; check the clocks"),
        (
            "failed",
            "blocking",
            "certificate not valid yet: check the clocks or reissue it (subject CN=early,",
        ),
    ),
}


@pytest.mark.parametrize("case", REJECTED)
def test_rejected_certificate_blocks_with_its_cause(run_preflight, tls_redis, pki, case):
    (fault, cause), (result, severity, shown) = REJECTED[case]
    outcome = run_preflight("--redis-url", tls_redis(case).url, *ca_args(pki))
    assert outcome.returncode == 1, outcome.output
    handshake = expect(outcome, "test_tls_handshake", "failed", "blocking", f"{fault} at 127.0.0.1:")
    assert cause in handshake["message"]
    assert outcome.check("test_ping")["message"] == "the TLS handshake failed: see test_tls_handshake"
    assert outcome.check("test_server_identity")["message"].startswith(f"target unreachable: {fault}")
    # The rejected certificate is still shown, fetched without verification.
    expect(outcome, "test_tls_certificate", result, severity, shown)
    expect(outcome, "test_tls_verified", "unverified", "advisory", "the handshake rejected the certificate")


def test_certificate_expiring_within_min_days_is_advisory(run_preflight, tls_redis, pki):
    expiring_tls = tls_redis("expiring")
    outcome = run_preflight("--redis-url", expiring_tls.url, *ca_args(pki))
    assert outcome.returncode == 0, outcome.output
    expect(
        outcome,
        "test_tls_certificate",
        "advisory",
        "advisory",
        "certificate expires in 5 days, under --tls-min-days 30",
    )
    quiet = run_preflight("--redis-url", expiring_tls.url, *ca_args(pki), "--tls-min-days", "3")
    expect(quiet, "test_tls_certificate", "passed", "advisory", "subject CN=soon")


def test_certificate_expiring_within_a_week_blocks_production(run_preflight, tls_redis, pki):
    outcome = run_preflight(
        "--redis-url", tls_redis("expiring").url, *ca_args(pki), "--profile", "production"
    )
    assert outcome.returncode == 1
    expect(outcome, "test_tls_certificate", "failed", "blocking", "certificate expires in 5 days")


def test_insecure_never_passes_silently(run_preflight, tls_redis, pki):
    outcome = run_preflight("--redis-url", tls_redis("expired").url, *ca_args(pki), "--tls-insecure")
    expect(outcome, "test_tls_handshake", "passed", "blocking", "TLSv1.3 ")
    assert "not verified (--tls-insecure)" in outcome.check("test_tls_handshake")["message"]
    verified = expect(
        outcome, "test_tls_verified", "advisory", "advisory", "--tls-insecure: the certificate was not"
    )
    assert "not authenticated" in verified["message"]
    assert "a verified handshake fails: TLS certificate expired at 127.0.0.1:" in verified["message"]
    expect(outcome, "test_tls_certificate", "failed", "blocking", "certificate expired 2 days ago")
    expect(outcome, "test_ping", "passed", "blocking", "PONG in ")


def test_insecure_on_a_good_certificate_says_to_drop_it(run_preflight, tls_redis, pki):
    outcome = run_preflight("--redis-url", tls_redis("good").url, *ca_args(pki), "--tls-insecure")
    assert outcome.returncode == 0, outcome.output
    verified = expect(outcome, "test_tls_verified", "advisory", "advisory", "--tls-insecure: ")
    assert verified["message"].endswith("a verified handshake succeeds, so drop --tls-insecure")


def test_tls_older_than_1_2_blocks(run_preflight, tls_redis, pki):
    outcome = run_preflight("--redis-url", tls_redis("legacy").url, *ca_args(pki))
    assert outcome.returncode == 1
    handshake = expect(
        outcome, "test_tls_handshake", "failed", "blocking", "TLS older than 1.2 at 127.0.0.1:"
    )
    assert "the server offers only TLSv1.1; enable TLS 1.2 and 1.3" in handshake["message"]


def test_client_certificate_required_but_not_given(run_preflight, tls_redis, pki):
    outcome = run_preflight("--redis-url", tls_redis("mutual").url, *ca_args(pki))
    assert outcome.returncode == 1
    handshake = expect(
        outcome, "test_tls_handshake", "failed", "blocking", "TLS client certificate required at"
    )
    assert handshake["message"].endswith("pass --tls-cert-file and --tls-key-file")


def test_client_certificate_given(run_preflight, tls_redis, pki):
    client = pki.issue("client.test")
    args = ("--tls-cert-file", str(client.cert), "--tls-key-file", str(client.key))
    outcome = run_preflight("--redis-url", tls_redis("mutual").url, *ca_args(pki), *args)
    assert outcome.returncode == 0, outcome.output
    handshake = expect(outcome, "test_tls_handshake", "passed", "blocking", "TLSv1.3 ")
    assert handshake["message"].endswith("client certificate given")


def test_client_certificate_from_an_unknown_ca_is_rejected(run_preflight, tls_redis, pki):
    client = pki.issue("stranger.client", ca=pki.other_ca)
    args = ("--tls-cert-file", str(client.cert), "--tls-key-file", str(client.key))
    outcome = run_preflight("--redis-url", tls_redis("mutual").url, *ca_args(pki), *args)
    expect(outcome, "test_tls_handshake", "failed", "blocking", "TLS client certificate rejected at")


def test_tls_to_a_plaintext_port_is_detected(run_preflight, plain_redis, pki):
    url = f"rediss://127.0.0.1:{plain_redis.port}/0"
    outcome = run_preflight("--redis-url", url, *ca_args(pki))
    assert outcome.returncode == 1
    handshake = expect(
        outcome, "test_tls_handshake", "failed", "blocking", "TLS spoken to a plaintext port at"
    )
    assert "use redis:// instead of rediss://" in handshake["message"]
    assert outcome.check("test_tcp_connect")["outcome"] == "passed"


def test_tls_to_a_silent_port_is_a_handshake_timeout(run_preflight, pki):
    with faults.tarpit() as port:
        outcome = run_preflight("--redis-url", f"rediss://127.0.0.1:{port}/0", *ca_args(pki))
    assert outcome.returncode == 1
    handshake = expect(outcome, "test_tls_handshake", "failed", "blocking", "TLS handshake timeout at")
    assert "nor did a plaintext PING" in handshake["message"]


def test_plaintext_to_a_tls_port_is_detected(run_preflight, tls_redis):
    outcome = run_preflight("--redis-url", f"redis://127.0.0.1:{tls_redis('good').tls_port}/0", *FAST)
    assert outcome.returncode == 1
    ping = expect(outcome, "test_ping", "failed", "blocking", "plaintext spoken to a TLS port at")
    assert "use rediss://" in ping["message"]


@pytest.mark.parametrize(
    ("profile", "severity", "code"), [("local", "advisory", 0), ("production", "blocking", 1)]
)
def test_plaintext_open_beside_tls(run_preflight, tls_redis, pki, profile, severity, code):
    server = tls_redis("with_plaintext")
    args = ca_args(pki, plaintext_port=server.plaintext_port)
    outcome = run_preflight("--redis-url", server.url, *args, "--profile", profile)
    check = expect(
        outcome,
        "test_plaintext_closed_beside_tls",
        "failed",
        severity,
        f"127.0.0.1:{server.plaintext_port} answers plaintext Redis (+PONG) beside the TLS port",
    )
    assert "port 0 in redis.conf" in check["message"]
    if code == 0:
        assert outcome.returncode == 0, outcome.output


def test_plaintext_probe_can_be_disabled(run_preflight, tls_redis, pki):
    outcome = run_preflight("--redis-url", tls_redis("with_plaintext").url, *ca_args(pki))
    expect(
        outcome,
        "test_plaintext_closed_beside_tls",
        "not_applicable",
        "advisory",
        "no plaintext probe: --plaintext-port is 0",
    )


@pytest.mark.parametrize(("profile", "severity"), [("remote", "advisory"), ("production", "blocking")])
def test_plaintext_target_outside_local(run_preflight, plain_redis, profile, severity):
    outcome = run_preflight("--redis-url", plain_redis.url, "--profile", profile, *FAST)
    expect(outcome, "test_tls_required", "failed", severity, f"plaintext redis:// in the {profile} profile")


def test_plaintext_target_is_fine_locally(run_preflight, plain_redis):
    outcome = run_preflight("--redis-url", plain_redis.url, *FAST)
    expect(outcome, "test_tls_required", "passed", "advisory", "plaintext redis:// in the local profile")
    expect(outcome, "test_tls_handshake", "not_applicable", "blocking", "plaintext target (redis://)")


def test_tls_files_that_do_not_load_are_a_usage_error(run_preflight, tls_redis, tmp_path):
    not_pem = tmp_path / "bundle.pem"
    not_pem.write_text("not a certificate\n")
    outcome = run_preflight("--redis-url", tls_redis("good").url, "--tls-ca-file", str(not_pem))
    assert outcome.returncode == 4
    assert "the TLS files do not load" in outcome.output
    assert outcome.summary["verdict"] == "error"


def test_missing_ca_file_is_a_usage_error(run_preflight):
    outcome = run_preflight("--redis-url", "rediss://127.0.0.1:6380/0", "--tls-ca-file", "nowhere/ca.pem")
    assert outcome.returncode == 4
    assert "invalid tls_ca_file 'nowhere/ca.pem' from the command line (--tls-ca-file)" in outcome.output


def test_secrets_appear_in_no_output(run_preflight, tls_redis, password_redis, pki):
    """An ACL user's password and the client key (path and contents) stay out of every output."""
    client = pki.issue("secret-client")
    key_line = client.key.read_text().splitlines()[1]
    server = tls_redis("mutual")
    acl_url = f"rediss://app:{quote(ACL_PASSWORD, safe='')}@127.0.0.1:{server.tls_port}/0"
    key_args = ("--tls-cert-file", str(client.cert), "--tls-key-file", str(client.key))
    texts = []
    passing = run_preflight("--redis-url", acl_url, *ca_args(pki), *key_args, "-v")
    assert passing.returncode == 0, passing.output
    texts.append(passing.outputs())
    assert f"rediss://app:***@127.0.0.1:{server.tls_port}/0" in texts[-1]
    # A username the server does not know: the password is also sent alone, and the run fails.
    no_user = f"redis://app:{quote(PASSWORD, safe='')}@127.0.0.1:{password_redis.port}/0"
    texts.append(run_preflight("--redis-url", no_user, "-v", *FAST).outputs())
    # A key without its certificate: a usage error that must not name the key either.
    usage = run_preflight("--redis-url", acl_url, "--tls-key-file", str(client.key))
    assert usage.returncode == 4
    assert "invalid tls_key_file *** from the command line (--tls-key-file)" in usage.output
    texts.append(usage.outputs())
    for text in texts:
        for secret in (ACL_PASSWORD, quote(ACL_PASSWORD, safe=""), PASSWORD, str(client.key), key_line):
            assert secret not in text
