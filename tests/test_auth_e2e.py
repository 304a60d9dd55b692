"""The auth area end to end: requirepass, ACL users with different rights, no auth at all."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from urllib.parse import quote

import pytest
from helpers.outcomes import FAST, expect

from conftest import PASSWORD, REDIS_6, server_line
from redis_preflight.ephemeral.local_server import LocalRedis
from redis_preflight.verdict.summary import EXIT_INCOMPLETE

# The rules shown are the server's own: lines after 7.0 (8.2 is tested) list sanitize-payload.
FLAGS = " sanitize-payload" if server_line() > (7, 0) else ""
APP_PASSWORD = "app:p@ss/w%rd"  # every character a URL must encode
DANGEROUS = "FLUSHALL, FLUSHDB, KEYS, CONFIG SET, DEBUG, SHUTDOWN"
PATTERNS = "user_session:*, ws_connections:*, goal_state:*, blacklist:*, rate_limit:*"


@pytest.fixture(scope="session")
def acl_redis(redis_factory: Callable[..., LocalRedis]) -> LocalRedis:
    """ACL users with the rights an application's user may have; the default user is off."""
    return redis_factory(
        "user default off",
        f"user app on >{APP_PASSWORD} ~* &* +@all",
        "user careful on >careful-pw ~* &* +@all -@dangerous +info +acl|dryrun +acl|getuser",
        "user reader on >reader-pw ~* +@read +@connection",
        # What the checks of rights need: ACL DRYRUN (7.0+), or on Redis 6 the rules, ACL GETUSER.
        f"user viewer on >viewer-pw ~* +@read +@connection +acl|{'getuser' if REDIS_6 else 'dryrun'}",
        "user tracker on >tracker-pw ~user_session:* ~ws_connections:* ~goal_state:* ~blacklist:* "
        "~rate_limit:* +@all -@dangerous +acl|" + ("getuser" if REDIS_6 else "dryrun"),
    )


@pytest.fixture(scope="session")
def open_acl_redis(redis_factory: Callable[..., LocalRedis]) -> LocalRedis:
    """An ACL user for the application, but the default user left on without a password."""
    return redis_factory("user app on >app-pw ~* &* +@all")


def url(server: LocalRedis, user: str = "", password: str = "") -> str:
    return f"redis://{user}:{quote(password, safe='')}@127.0.0.1:{server.port}/0"


def test_full_user_gets_in_but_may_run_dangerous_commands(run_preflight, acl_redis):
    outcome = run_preflight("--redis-url", url(acl_redis, "app", APP_PASSWORD), *FAST)
    assert outcome.returncode == 0, outcome.output
    expect(outcome, "test_authenticated", "passed", "blocking", "AUTH as 'app' in ")
    expect(
        outcome,
        "test_anonymous_refused",
        "advisory" and "passed",
        "advisory",
        "clients without credentials are refused (a PING without credentials got NOAUTH)",
    )
    dangerous = expect(
        outcome,
        "test_dangerous_commands_disabled",
        "advisory",
        "advisory",
        f"dangerous commands left enabled: user 'app' (on{FLAGS} ~* &* +@all) may run {DANGEROUS}; ",
    )
    assert "ACL SETUSER app -flushall -flushdb -keys -config|set -debug -shutdown" in dangerous["message"]
    expect(
        outcome,
        "test_app_commands_allowed",
        "passed",
        "blocking",
        "user 'app' is granted GET, SET EX, EXPIRE",
    )
    expect(outcome, "test_auth_required", "not_applicable", "advisory", "REDIS_URL carries credentials")
    assert hashlib.sha256(APP_PASSWORD.encode()).hexdigest() not in outcome.outputs()


def test_user_without_dangerous_commands_passes(run_preflight, acl_redis):
    outcome = run_preflight("--redis-url", url(acl_redis, "careful", "careful-pw"), *FAST)
    assert outcome.returncode == 0, outcome.output
    # The rules shown are the server's own: 6.2 and 7.0 report -@dangerous expanded, 8.2 as given.
    dangerous = expect(
        outcome,
        "test_dangerous_commands_disabled",
        "passed",
        "advisory",
        f"user 'careful' (on{FLAGS} ~* &* +@all -@" + ("dangerous " if FLAGS else "admin "),
    )
    assert dangerous["message"].endswith(f") may not run {DANGEROUS}")
    expect(
        outcome,
        "test_app_commands_allowed",
        "passed",
        "blocking",
        f"user 'careful' is granted GET, SET EX, EXPIRE, TTL, INCR, DEL, SCAN on {PATTERNS}",
    )


def test_read_only_user_skips_what_it_may_not_run(run_preflight, acl_redis):
    outcome = run_preflight("--redis-url", url(acl_redis, "reader", "reader-pw"), *FAST)
    # Without INFO the replication link is unseen: never a pass, and every gap names its grant.
    assert outcome.returncode == EXIT_INCOMPLETE, outcome.output
    forbidden = (
        "NOPERM at 127.0.0.1:{}: user 'reader' may not run {}; grant it (ACL SETUSER reader +{}) "
        "to run this check (commands table in report.html)"
    )
    # Redis 6 judges the rules (ACL GETUSER) and names no subcommand in its NOPERM (CLUSTER).
    asked = ("ACL GETUSER", "acl|getuser") if REDIS_6 else ("ACL DRYRUN", "acl|dryrun")
    dry_run = forbidden.format(acl_redis.port, *asked)
    expect(outcome, "test_dangerous_commands_disabled", "unverified", "advisory", dry_run)
    verifier_only = f"user 'reader' may not run {asked[0]}: a least-privilege verifier user"
    expect(outcome, "test_app_commands_allowed", "not_applicable", "blocking", verifier_only)
    # Other areas' probes that catch NOPERM word it the same way, inside their own skip reason.
    for name, command, grant in (
        ("test_server_identity", "INFO", "info"),
        ("test_cluster_state_ok", *(("CLUSTER", "cluster") if REDIS_6 else ("CLUSTER INFO", "cluster|info"))),
    ):
        check = outcome.check(name)
        assert check["outcome"] == "unverified", check
        assert forbidden.format(acl_redis.port, command, grant) in check["message"]
    assert not [c for c in outcome.summary["checks"] if c["outcome"] == "error"]


def test_read_only_application_user_lacks_needed_commands(run_preflight, acl_redis):
    outcome = run_preflight("--redis-url", url(acl_redis, "viewer", "viewer-pw"), *FAST)
    assert outcome.returncode == 1
    needed = expect(
        outcome,
        "test_app_commands_allowed",
        "failed",
        "blocking",
        f"user 'viewer' may not run SET EX, EXPIRE, INCR, DEL on {PATTERNS}: the application will get NOPERM",
    )
    assert needed["message"].endswith(
        "(ACL SETUSER viewer +set +expire +incr +del ~user_session:* ~ws_connections:* "
        "~goal_state:* ~blacklist:* ~rate_limit:*)"
    )
    expect(
        outcome,
        "test_dangerous_commands_disabled",
        "advisory",
        "advisory",
        "dangerous commands left enabled: user 'viewer'"
        + (" (on ~* &* -@all +@read" if REDIS_6 else " may run KEYS;"),
    )
    assert " may run KEYS; " in outcome.check("test_dangerous_commands_disabled")["message"]


INVOICE_CONTRACT = """
from pydantic import BaseModel

from redis_preflight.contract import Contract, KeyPattern, TtlPolicy
from redis_preflight.contract.goals_tracker import CONTRACT as TRACKER


class Invoice(BaseModel):
    total_cents: int


CONTRACT = TRACKER.plus(KeyPattern(name="invoice", prefix="invoice:", value=Invoice, ttl=TtlPolicy()))
"""


def test_app_commands_are_judged_on_the_contract_in_force(run_preflight, acl_redis, tmp_path):
    tracker = url(acl_redis, "tracker", "tracker-pw")
    default = run_preflight("--redis-url", tracker, "--only", "auth", *FAST)
    expect(default, "test_app_commands_allowed", "passed", "blocking", "user 'tracker' is granted GET")
    contract = tmp_path / "invoices.py"
    contract.write_text(INVOICE_CONTRACT)
    invoices = run_preflight("--redis-url", tracker, "--only", "auth", "--contract", str(contract), *FAST)
    assert invoices.returncode == 1, invoices.output
    denied = expect(
        invoices,
        "test_app_commands_allowed",
        "failed",
        "blocking",
        "user 'tracker' may not run GET, SET EX, EXPIRE, TTL, INCR, DEL on invoice:*: the application",
    )
    assert denied["message"].endswith("~invoice:*)")


@pytest.mark.parametrize(
    ("profile", "severity", "code"), [("local", "advisory", 0), ("remote", "blocking", 1)]
)
def test_anonymous_answered_beside_an_acl_user(run_preflight, open_acl_redis, profile, severity, code):
    outcome = run_preflight("--redis-url", url(open_acl_redis, "app", "app-pw"), "--profile", profile, *FAST)
    assert outcome.returncode == code, outcome.output
    anonymous = expect(
        outcome,
        "test_anonymous_refused",
        "failed",
        severity,
        "a PING without credentials got PONG: REDIS_URL authenticates as 'app'",
    )
    assert "ACL SETUSER default off" in anonymous["message"]


@pytest.mark.parametrize(
    ("profile", "result", "severity"),
    [
        ("local", "passed", "advisory"),
        ("remote", "advisory", "advisory"),
        ("production", "failed", "blocking"),
    ],
)
def test_no_credentials_and_none_required(run_preflight, plain_redis, profile, result, severity):
    outcome = run_preflight("--redis-url", plain_redis.url, "--profile", profile, *FAST)
    starts = (
        "no credentials and none required"
        if result == "passed"
        else "the server answers clients without credentials"
    )
    check = expect(outcome, "test_auth_required", result, severity, starts)
    if result == "failed":
        assert "set requirepass" in check["message"]
    expect(outcome, "test_authenticated", "passed", "blocking", "REDIS_URL has no credentials")
    anonymous = outcome.check("test_anonymous_refused")
    assert anonymous["outcome"] == "not_applicable"
    assert anonymous["message"] == "REDIS_URL carries no credentials: see test_auth_required"


def test_password_missing_is_noauth(run_preflight, password_redis):
    outcome = run_preflight("--redis-url", password_redis.url, *FAST)
    assert outcome.returncode == 1
    authenticated = expect(outcome, "test_authenticated", "failed", "blocking", "NOAUTH at 127.0.0.1:")
    assert "requires a password" in authenticated["message"]
    assert outcome.check("test_ping")["message"] == "authentication failed: see test_authenticated"


def test_password_wrong_is_wrongpass(run_preflight, password_redis):
    outcome = run_preflight("--redis-url", url(password_redis, "", "nope"), *FAST)
    assert outcome.returncode == 1
    expect(outcome, "test_authenticated", "failed", "blocking", "WRONGPASS at 127.0.0.1:")


def test_acl_user_with_a_wrong_password_is_wrongpass(run_preflight, acl_redis):
    outcome = run_preflight("--redis-url", url(acl_redis, "app", "nope"), *FAST)
    expect(outcome, "test_authenticated", "failed", "blocking", "WRONGPASS at 127.0.0.1:")


def test_username_given_to_a_requirepass_server(run_preflight, password_redis):
    outcome = run_preflight("--redis-url", url(password_redis, "app", PASSWORD), *FAST)
    assert outcome.returncode == 1
    check = expect(
        outcome,
        "test_authenticated",
        "failed",
        "blocking",
        "username given to a server without that ACL user at 127.0.0.1:",
    )
    assert "rejects user 'app' but accepts the password alone" in check["message"]
    assert "drop the username (redis://:" in check["message"]


def test_password_given_to_a_server_without_one(run_preflight, plain_redis):
    outcome = run_preflight("--redis-url", url(plain_redis, "", "surplus"), *FAST)
    check = expect(outcome, "test_authenticated", "failed", "blocking", "WRONGPASS at 127.0.0.1:")
    assert "the server has none configured" in check["message"]


def test_renamed_commands_count_as_disabled(run_preflight, redis_factory):
    server = redis_factory('rename-command FLUSHALL ""', 'rename-command FLUSHDB ""')
    outcome = run_preflight("--redis-url", server.url, *FAST)
    expect(
        outcome,
        "test_dangerous_commands_disabled",
        "advisory",
        "advisory",
        f"dangerous commands left enabled: user 'default' (on nopass{FLAGS} ~* &* +@all) "
        "may run KEYS, CONFIG SET, DEBUG, SHUTDOWN;",
    )
