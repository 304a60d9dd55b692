"""The server area end to end: the real suite, through the console script, on servers made for each case."""

from __future__ import annotations

from urllib.parse import quote

import pytest
import redis
from helpers.clients import client_of, wait_until
from helpers.outcomes import expect
from helpers.server import documented_acl_line, failing_save

from conftest import PASSWORD, REDIS_6
from redis_preflight.ephemeral.local_server import LocalRedis
from redis_preflight.probes import acl_rules
from redis_preflight.probes.server.versions import release_support

SERVER_CHECKS = (
    "test_writes_reach_primary",
    "test_memory_headroom",
    "test_eviction_policy",
    "test_no_evictions",
    "test_persistence_enabled",
    "test_last_save_succeeded",
    "test_last_save_recent",
    "test_client_headroom",
    "test_rejected_connections",
    "test_memory_fragmentation",
    "test_recent_restart",
    "test_replication_link",
    "test_protected_mode",
    "test_bind_interfaces",
    "test_version_supported",
    "test_server_snapshot",
)


def test_healthy_local_server(run_preflight, plain_redis):
    outcome = run_preflight("--redis-url", plain_redis.url)
    assert outcome.returncode == 0, outcome.output
    summary = outcome.summary
    server = [c for c in summary["checks"] if c["area"] == "server"]
    assert sorted(c["id"].split("::")[-1] for c in server) == sorted(SERVER_CHECKS)
    assert not [c for c in server if c["outcome"] == "error"]
    expect(outcome, "test_eviction_policy", "passed", "advisory", "", "noeviction")
    expect(outcome, "test_persistence_enabled", "not_applicable", "advisory", "", "local profile")
    expect(outcome, "test_replication_link", "passed", "blocking", "", "primary with 0 connected")
    expect(outcome, "test_protected_mode", "passed", "advisory", "", "protected-mode yes")
    expect(outcome, "test_bind_interfaces", "passed", "advisory", "", "bind 127.0.0.1")
    expect(outcome, "test_server_snapshot", "passed", "advisory", "", "snapshot in report.html")
    assert "max save age 24 h" in outcome.output


# Memory and eviction


@pytest.mark.parametrize(
    ("policy", "why"),
    [("allkeys-lru", "can evict blacklist:* keys"), ("volatile-lru", "volatile-* policies pick them too")],
)
def test_evicting_policy(run_preflight, redis_factory, policy, why):
    server = redis_factory("maxmemory 64mb", f"maxmemory-policy {policy}")
    local = run_preflight("--redis-url", server.url)
    assert local.returncode == 0, local.output
    expect(local, "test_eviction_policy", "advisory", "advisory", "", f"maxmemory-policy {policy}", why)
    production = run_preflight("--redis-url", server.url, "--profile", "production")
    assert production.returncode == 1
    expect(production, "test_eviction_policy", "failed", "blocking", "", "expected noeviction")


def test_keys_evicted(run_preflight, redis_factory):
    server = redis_factory("maxmemory 2mb", "maxmemory-policy allkeys-lru")
    client = client_of(server)
    for n in range(100):
        client.set(f"filler:{n}", b"x" * 50_000)
    evicted = client.info("stats")["evicted_keys"]
    assert evicted > 0
    outcome = run_preflight("--redis-url", server.url)
    expect(outcome, "test_no_evictions", "advisory", "advisory", "", " keys evicted in ")
    # The server may evict a few more while the verifier connects: at least as many as seen here.
    assert int(outcome.check("test_no_evictions")["message"].split()[0]) >= evicted


def fill_to(server: LocalRedis, ratio: float) -> None:
    """Hold 20 MB, then set maxmemory so that this is `ratio` of it.

    With 20 MB held, the verifier's own connection (tens of KB) cannot move the ratio.
    """
    client = client_of(server)
    for n in range(200):
        client.set(f"filler:{n}", b"x" * 100_000)
    used = client.info("memory")["used_memory"]
    client.config_set("maxmemory", int(used / ratio))


def test_memory_above_80_percent_is_advisory(run_preflight, redis_factory):
    server = redis_factory()
    fill_to(server, 0.88)
    outcome = run_preflight("--redis-url", server.url)
    assert outcome.returncode == 0, outcome.output
    expect(
        outcome,
        "test_memory_headroom",
        "advisory",
        "advisory",
        "",
        "expected under 80%",
        "writes fail with OOM",
    )


def test_memory_above_95_percent_is_blocking(run_preflight, redis_factory):
    server = redis_factory()
    fill_to(server, 1.2)
    outcome = run_preflight("--redis-url", server.url)
    assert outcome.returncode == 1
    expect(outcome, "test_memory_headroom", "failed", "blocking", "", "expected under 80%")


# Persistence


def test_bare_server_on_remote_profiles(run_preflight, plain_redis):
    """No maxmemory, persistence off, started seconds ago: fine locally, findings elsewhere."""
    remote = run_preflight("--redis-url", plain_redis.url, "--profile", "remote")
    assert remote.returncode == 0, remote.output
    expect(remote, "test_memory_headroom", "advisory", "advisory", "", "no maxmemory on a remote server")
    expect(remote, "test_persistence_enabled", "advisory", "advisory", "", 'neither RDB snapshots (save "")')
    expect(remote, "test_last_save_recent", "not_applicable", "advisory", "", "no RDB snapshots and no AOF")
    expect(remote, "test_recent_restart", "advisory", "advisory", "", "expected up for over an hour")
    production = run_preflight("--redis-url", plain_redis.url, "--profile", "production")
    assert production.returncode == 1
    expect(production, "test_persistence_enabled", "failed", "blocking", "", "appendonly yes")


def test_failing_save_stops_writes(run_preflight, redis_factory):
    # stop-writes-on-bgsave-error yes (the default): Redis answers MISCONF even to PING, reads still work.
    server = failing_save(redis_factory)
    outcome = run_preflight("--redis-url", server.url)
    assert outcome.returncode == 1
    expect(outcome, "test_ping", "failed", "blocking", "MISCONF at 127.0.0.1:", "refuses every write")
    expect(outcome, "test_last_save_succeeded", "advisory", "advisory", "", "(see test_ping)")


@pytest.fixture(scope="session")
def failing_save_taking_writes(redis_factory) -> LocalRedis:
    return failing_save(redis_factory, "stop-writes-on-bgsave-error no")


def test_failing_save_taking_writes(run_preflight, failing_save_taking_writes):
    server = failing_save_taking_writes
    local = run_preflight("--redis-url", server.url)
    assert local.returncode == 0, local.output
    expect(local, "test_last_save_succeeded", "advisory", "advisory", "", "rdb_last_bgsave_status:err")
    production = run_preflight("--redis-url", server.url, "--profile", "production")
    assert production.returncode == 1
    expect(production, "test_last_save_succeeded", "failed", "blocking", "", "'dir' is writable")
    expect(production, "test_persistence_enabled", "passed", "blocking", "", "RDB snapshots: save 3600 1")


def test_old_save_with_changes(run_preflight, failing_save_taking_writes):
    url = failing_save_taking_writes.url
    outcome = run_preflight("--redis-url", url, "--profile", "remote", "--max-save-age", "0.0001")
    expect(
        outcome,
        "test_last_save_recent",
        "advisory",
        "advisory",
        "",
        "changes since",
        "under 0.0001 h (--max-save-age)",
    )


def test_aof_on(run_preflight, redis_factory):
    server = redis_factory("appendonly yes")
    outcome = run_preflight("--redis-url", server.url, "--profile", "remote")
    expect(outcome, "test_persistence_enabled", "passed", "advisory", "", "AOF on")
    expect(outcome, "test_last_save_recent", "passed", "advisory", "", "AOF on")


def test_bad_max_save_age_is_a_usage_error(run_preflight, plain_redis):
    outcome = run_preflight("--redis-url", plain_redis.url, "--max-save-age", "-1")
    assert outcome.returncode == 4
    assert "invalid max_save_age -1.0 from the command line (--max-save-age)" in outcome.output


# Clients, stability, replication


def test_near_maxclients(run_preflight, redis_factory):
    server = redis_factory("maxclients 20")
    held = [client_of(server) for _ in range(21)]
    for client in held[:20]:
        client.ping()
    with pytest.raises(redis.ConnectionError, match="max number of clients"):
        held[20].ping()
    for client in held[16:]:
        client.close()
    wait_until(lambda: client_of(server).info("clients")["connected_clients"] <= 17, "idle clients to go")
    outcome = run_preflight("--redis-url", server.url)
    assert outcome.returncode == 0, outcome.output
    expect(
        outcome, "test_client_headroom", "advisory", "advisory", "", "of maxclients 20", "expected under 80%"
    )
    expect(outcome, "test_rejected_connections", "advisory", "advisory", "", "1 connections rejected")
    for client in held[:16]:
        client.close()


def test_replica_whose_primary_is_down(run_preflight, redis_factory):
    primary = redis_factory()
    replica = redis_factory(f"replicaof 127.0.0.1 {primary.port}")
    replica_client = client_of(replica)
    wait_until(lambda: replica_client.info("replication")["master_link_status"] == "up", "the link up")
    primary.stop()
    wait_until(lambda: replica_client.info("replication")["master_link_status"] == "down", "the link down")
    outcome = run_preflight("--redis-url", replica.url)
    assert outcome.returncode == 1
    expect(
        outcome,
        "test_replication_link",
        "failed",
        "blocking",
        "",
        f"replica of 127.0.0.1:{primary.port} with its link down for",
        "serves stale data",
    )


def test_primary_shows_its_replicas(run_preflight, redis_factory):
    primary = redis_factory()
    replica = redis_factory(f"replicaof 127.0.0.1 {primary.port}")
    replication = client_of(primary).info
    wait_until(lambda: replication("replication").get("slave0", {}).get("state") == "online", "the replica")
    outcome = run_preflight("--redis-url", primary.url)
    expect(outcome, "test_replication_link", "passed", "blocking", "", f"127.0.0.1:{replica.port} online")


# Exposure


def test_protected_mode_off_without_auth(run_preflight, redis_factory):
    server = redis_factory("protected-mode no")
    local = run_preflight("--redis-url", server.url)
    expect(
        local, "test_protected_mode", "advisory", "advisory", "", "protected-mode no and no authentication"
    )
    remote = run_preflight("--redis-url", server.url, "--profile", "remote")
    assert remote.returncode == 1
    expect(remote, "test_protected_mode", "failed", "blocking", "", "set requirepass")


def test_bind_everywhere_without_auth(run_preflight, redis_factory):
    # protected-mode yes (the default) refuses every non-loopback client while no password is set,
    # so this server is never open to the network during the test.
    server = redis_factory("bind * -::*", "protected-mode yes")
    outcome = run_preflight("--redis-url", server.url)
    expect(
        outcome,
        "test_bind_interfaces",
        "advisory",
        "advisory",
        "",
        "bind '* -::*' listens on every interface",
    )


def test_password_makes_exposure_pass(run_preflight, password_redis):
    url = f"redis://:{quote(PASSWORD, safe='')}@127.0.0.1:{password_redis.port}/0"
    outcome = run_preflight("--redis-url", url, "--profile", "remote")
    for name in ("test_protected_mode", "test_bind_interfaces"):
        expect(outcome, name, "passed", "blocking", "", "a PING without credentials got NOAUTH")


def test_version_against_the_list(run_preflight, plain_redis):
    version = client_of(plain_redis).info("server")["redis_version"]
    outcome = run_preflight("--redis-url", plain_redis.url)
    supported = release_support(version).supported is not False
    expected = "gets security fixes" if supported else "stopped getting security fixes"
    result = "passed" if supported else "failed"
    expect(outcome, "test_version_supported", result, "advisory", "", f"redis {version}", expected)


def test_documented_acl_line_is_least_privilege(redis_factory):
    server = redis_factory()
    admin = client_of(server)
    admin.execute_command(*[word.replace("CHANGE-ME", "pw") for word in documented_acl_line()])
    refused = ("config get save", "client kill id 1", "client list", "keys *", "set k v", "debug digest")
    for command in refused:
        assert not may_run(admin, "preflight", command), command
    for command in ("info", "scan 0", "get k", "slowlog get", "select 0", "memory usage k"):
        assert may_run(admin, "preflight", command), command


def may_run(admin, user: str, command: str) -> bool:
    """ACL DRYRUN (7.0+), or on Redis 6 the rules judged as the auth area judges them."""
    if REDIS_6:
        return acl_rules.judge(admin, user, [tuple(command.split())]) == [True]
    return admin.execute_command("ACL", "DRYRUN", user, *command.split()) == b"OK"
