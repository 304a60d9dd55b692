"""Managed-like servers, the least-privilege user, the read-only guarantee and the report snapshot."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from helpers.clients import client_of
from helpers.server import (
    command_calls,
    command_flags,
    commands_called,
    documented_acl_line,
    fence_state_changes,
)

from conftest import DEBUG_ENABLED, PASSWORD, REDIS_6
from redis_preflight.contract.samples import seed
from redis_preflight.ephemeral.local_server import LocalRedis
from redis_preflight.verdict.summary import EXIT_INCOMPLETE

# State-changing commands that carry no "write" flag.
ADMIN_CHANGES = {
    "config|set",
    "config|rewrite",
    "config|resetstat",
    "slowlog|reset",
    "latency|reset",
    "bgsave",
    "save",
    "bgrewriteaof",
    "shutdown",
    "debug",
    "client|kill",
    "client|pause",
    "acl|setuser",
    "acl|deluser",
    "replicaof",
    "slaveof",
    "failover",
}


def checks_by_name(outcome) -> dict[str, dict]:
    return {check["id"].split("::")[-1]: check for check in outcome.summary["checks"]}


# Managed services: CONFIG, SLOWLOG and DEBUG renamed away, as ElastiCache and others do


@pytest.fixture(scope="session")
def managed_like(redis_factory) -> LocalRedis:
    return redis_factory(
        "maxmemory 256mb", 'rename-command CONFIG ""', 'rename-command SLOWLOG ""', 'rename-command DEBUG ""'
    )


@pytest.mark.parametrize("profile", ["local", "remote"])
def test_renamed_commands_skip_or_fall_back(run_preflight, managed_like, profile):
    outcome = run_preflight("--redis-url", managed_like.url, "--profile", profile)
    checks = checks_by_name(outcome)
    assert not [c for c in checks.values() if c["outcome"] == "error"], outcome.output
    assert "Traceback" not in outcome.output
    renamed = "CONFIG GET not available (unknown command at 127.0.0.1:"
    exposure_severity = "advisory" if profile == "local" else "blocking"
    for name in ("test_protected_mode", "test_bind_interfaces"):
        assert (checks[name]["outcome"], checks[name]["severity"]) == ("unverified", exposure_severity)
        assert checks[name]["message"].startswith(renamed), checks[name]
        assert "CONFIG is renamed or disabled on this server" in checks[name]["message"]
    for name in ("test_memory_headroom", "test_eviction_policy", "test_client_headroom"):
        assert (checks[name]["outcome"], checks[name]["severity"]) == ("passed", "advisory"), checks[name]
        assert "read from INFO (CONFIG GET not available)" in checks[name]["message"], checks[name]
    assert "SLOWLOG GET not available" in checks["test_server_snapshot"]["message"]
    if profile == "remote":
        persistence = checks["test_persistence_enabled"]
        assert (persistence["outcome"], persistence["severity"]) == ("unverified", "advisory")
        assert persistence["message"].startswith(renamed)
        assert "the save rules cannot be read" in persistence["message"]


# The least-privilege user of docs/safety.md runs the whole suite


@pytest.fixture(scope="session")
def least_privilege(redis_factory) -> LocalRedis:
    server = redis_factory("appendonly yes", "maxmemory 256mb")
    client_of(server).execute_command(*[word.replace("CHANGE-ME", "pw") for word in documented_acl_line()])
    return server


def test_documented_acl_user_runs_the_whole_suite(run_preflight, least_privilege):
    """Checks that need more than the user has skip naming the command; the rest see what an admin sees."""
    port = least_privilege.port
    admin = checks_by_name(run_preflight("--redis-url", least_privilege.url, "--profile", "remote"))
    restricted_run = run_preflight(
        "--redis-url", f"redis://preflight:pw@127.0.0.1:{port}/0", "--profile", "remote"
    )
    restricted = checks_by_name(restricted_run)
    assert restricted.keys() == admin.keys()
    assert not [c for c in restricted.values() if c["outcome"] == "error"], restricted_run.output
    skipped_for_privilege = {
        name
        for name, check in restricted.items()
        if check["message"].startswith("CONFIG GET not available (NOPERM")
    }
    assert skipped_for_privilege == {"test_protected_mode", "test_bind_interfaces"}
    for name in skipped_for_privilege:
        assert restricted[name]["outcome"] == "unverified"
        assert admin[name]["outcome"] == "passed"
    # The auth area judges the credentials given: the admin run has none, the restricted one has.
    compared = {name for name, check in restricted.items() if check["area"] != "auth"}
    for name in compared - skipped_for_privilege:
        assert restricted[name]["outcome"] == admin[name]["outcome"], (restricted[name], admin[name])
    # What fails comes from the test server itself: a 7.0 binary started seconds ago, plaintext
    # (remote profile), and its default user left open beside 'preflight'.
    failing = {name for name, check in restricted.items() if check["outcome"] == "failed"}
    assert failing <= {
        "test_version_supported",
        "test_recent_restart",
        "test_tls_required",
        "test_anonymous_refused",
    }
    assert "read from INFO (CONFIG GET not available)" in restricted["test_persistence_enabled"]["message"]


def test_user_without_info_skips_naming_it(run_preflight, least_privilege):
    client_of(least_privilege).execute_command(
        "ACL", "SETUSER", "noinfo", "on", ">pw", "~*", "-@all", "+@read", "+@connection", "-@admin"
    )
    url = f"redis://noinfo:pw@127.0.0.1:{least_privilege.port}/0"
    outcome = run_preflight("--redis-url", url)
    assert outcome.returncode == EXIT_INCOMPLETE, outcome.output  # the replication link is unseen
    unverified = {u["id"].split("::")[-1] for u in outcome.summary["unverified_blocking"]}
    assert {"test_replication_link", "test_writes_reach_primary"} <= unverified
    checks = checks_by_name(outcome)
    assert not [c for c in checks.values() if c["outcome"] == "error"], outcome.output
    needing_info = [c for c in checks.values() if c["area"] == "server"] + [checks["test_server_identity"]]
    for check in needing_info:
        assert check["outcome"] == "unverified", check
        assert check["message"].startswith("INFO not available (NOPERM at 127.0.0.1:"), check
    assert checks["test_ping"]["outcome"] == "passed"


# Read-only: a whole default run writes nothing


@pytest.fixture(scope="session")
def debuggable(redis_factory) -> LocalRedis:
    server = redis_factory(*DEBUG_ENABLED)
    admin = client_of(server)
    seed(admin)
    fence_state_changes(admin)
    return server


def test_default_run_writes_nothing(run_preflight, debuggable):
    admin = client_of(debuggable)
    digest = admin.execute_command("DEBUG", "DIGEST")
    before = command_calls(admin)
    outcome = run_preflight("--redis-url", debuggable.url)
    after = command_calls(admin)
    assert outcome.returncode == 0, outcome.output
    assert admin.execute_command("DEBUG", "DIGEST") == digest
    refused = [entry["object"] for entry in admin.acl_log()]
    assert not refused, f"the verifier tried state-changing subcommands: {refused}"
    # The commands table's INFO at start, the server area's snapshot, and this test's "before".
    assert after["info"] - before.get("info", 0) == 3
    called = commands_called(before, after) - {"debug"}
    # Redis 6 counts a subcommand's calls under its command's name: "config", not "config|get".
    reads = {"config", "slowlog"} if REDIS_6 else {"config|get", "slowlog|get"}
    assert {"ping", "info", *reads} <= called
    flags = command_flags(admin, called)
    writes = {name for name, flag_list in flags.items() if "write" in flag_list or "@write" in flag_list}
    assert not writes, f"the verifier sent write commands: {writes}"
    assert not called & ADMIN_CHANGES, called & ADMIN_CHANGES


# The snapshot in report.html: readable, escaped, masked


@pytest.fixture(scope="session")
def slow_password_server(redis_factory) -> LocalRedis:
    """Its SLOWLOG holds markup as a key and the password as an ECHO argument."""
    server = redis_factory(f'requirepass "{PASSWORD}"', "slowlog-log-slower-than 1000000")
    client = client_of(server, password=PASSWORD)
    client.config_set("slowlog-log-slower-than", 0)
    client.get("<script>alert(1)</script>")
    client.echo(PASSWORD)
    # Raised again at once, so the verifier's own commands do not push these out of SLOWLOG GET 10.
    client.config_set("slowlog-log-slower-than", 1000000)
    return server


def test_snapshot_in_report_is_escaped_and_masked(run_preflight, slow_password_server):
    url = f"redis://:{quote(PASSWORD, safe='')}@127.0.0.1:{slow_password_server.port}/0"
    outcome = run_preflight("--redis-url", url)
    assert outcome.check("test_server_snapshot")["outcome"] == "passed"
    (snapshot,) = outcome.evidence()["test_server_snapshot"]
    for section in ("Server", "Clients", "Memory", "Stats", "Persistence", "Replication", "Keyspace"):
        assert f"<th colspan=2>{section}</th>" in snapshot
    assert "SLOWLOG GET" in snapshot
    assert "GET &lt;script&gt;alert(1)&lt;/script&gt;" in snapshot
    assert "<script>alert" not in snapshot
    assert "ECHO ***" in snapshot
    assert PASSWORD not in outcome.outputs()
