"""The census against real servers: its bounds, its throttle, its reads only, its value cap."""

from __future__ import annotations

import time

import pytest
import redis
from helpers.keys import BIG, SESSION, STATE, document
from helpers.tls import make_pki, start_tls_redis

from redis_preflight.contract.goals_tracker import CONTRACT
from redis_preflight.contract.samples import seed
from redis_preflight.ephemeral.local_server import free_port
from redis_preflight.probes.keys import take_census
from redis_preflight.probes.keys.census import Bounds

# What the census may send: reads and introspection only, never KEYS, never a write.
READS = {"dbsize", "scan", "pttl", "strlen", "mget", "get", "type", "memory|usage"}
HANDSHAKE_AND_TEST = {"select", "config|resetstat", "info"}  # the test's own, and redis-py's


@pytest.fixture(scope="module")
def census_redis(redis_factory):
    return redis_factory()


def fresh(server, db: int) -> redis.Redis:
    """A db of the module's server, with the server's command statistics reset."""
    r = redis.Redis(port=server.port, db=db, socket_timeout=5, protocol=2)
    r.config_resetstat()
    return r


def calls(r: redis.Redis) -> dict[str, int]:
    stats = r.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(s["calls"]) for name, s in stats.items() if s["calls"]}


def many_sessions(r: redis.Redis, count: int) -> None:
    with r.pipeline(transaction=False) as pipe:
        for n in range(count):
            pipe.set(f"user_session:{n}", b"{}", ex=3600)
        pipe.execute()


def test_sample_bounds_what_is_examined(census_redis):
    r = fresh(census_redis, 1)
    many_sessions(r, 3000)
    r.config_resetstat()
    census = take_census([r], CONTRACT, Bounds(key_sample=100))
    sessions = census.pattern("user_session")
    assert (sessions.seen, sessions.count, sessions.counted) == (3000, 3000, True)
    assert sessions.examined == 100
    assert sessions.failures("shape") == 100  # `{}` misses every field
    seen = calls(r)
    assert seen["pttl"] == seen["strlen"] == 100  # the server saw no more than asked
    assert seen["mget"] <= 2
    assert set(seen) - HANDSHAKE_AND_TEST <= READS


def test_full_scan_examines_everything_and_writes_nothing(census_redis):
    r = fresh(census_redis, 2)
    seed(r, users=300)
    before = r.dbsize()
    r.config_resetstat()
    census = take_census([r], CONTRACT, Bounds(key_sample=10, full_scan=True))
    assert census.complete
    assert census.scanned == before == census.examined == 1500
    assert all(p.violations == () for p in census.patterns)
    assert set(calls(r)) - HANDSHAKE_AND_TEST <= READS
    assert r.dbsize() == before
    memory = census.pattern("user_session")
    assert memory.memory_per_key is not None
    assert memory.memory_per_key > 100
    assert memory.memory_note == "MEMORY USAGE of 20 keys"


def test_big_value_is_measured_not_fetched(census_redis):
    r = fresh(census_redis, 3)
    r.set("goal_state:huge", document(STATE, history=["x" * BIG]), ex=3600)
    r.set("goal_state:small", document(STATE), ex=3600)
    sent_before = r.info("stats")["total_net_output_bytes"]
    census = take_census([r], CONTRACT, Bounds())
    sent = r.info("stats")["total_net_output_bytes"] - sent_before
    assert sent < 64 * 1024, f"the server sent {sent:,} bytes: the big value was fetched"
    (violation,) = census.pattern("goal_state").violations
    assert violation.kind == "oversized"
    assert violation.examples[0].key == "goal_state:huge"
    assert violation.examples[0].reason.endswith("bytes, over the 1,048,576-byte cap (--max-value-bytes)")


def test_time_budget_stops_the_scan_and_estimates(census_redis):
    r = fresh(census_redis, 4)
    many_sessions(r, 20_000)
    census = take_census([r], CONTRACT, Bounds(scan_budget_s=1e-6))
    sessions = census.pattern("user_session")
    assert not census.complete
    assert 0 < census.scanned < 20_000
    assert not sessions.counted
    assert sessions.count == pytest.approx(20_000, rel=0.01)  # all keys are sessions: scale is exact


def test_throttle_keeps_the_rate_under_the_limit(census_redis):
    r = fresh(census_redis, 5)
    many_sessions(r, 1500)
    r.config_resetstat()
    started = time.monotonic()
    take_census([r], CONTRACT, Bounds(max_ops_per_sec=4000, full_scan=True))
    elapsed = time.monotonic() - started
    commands = sum(n for name, n in calls(r).items() if name in READS)
    mget_keys = 1500  # each key an MGET asks for counts as one operation
    operations = commands - calls(r)["mget"] + mget_keys
    # A slow machine can only lower the rate; the throttle must keep it under the limit.
    assert operations / elapsed <= 4000 * 1.05, f"{operations} operations in {elapsed:.2f} s"


def test_memory_usage_refused_is_noted(redis_factory):
    server = redis_factory("user default on nopass ~* &* +@all -memory")
    r = redis.Redis(port=server.port, socket_timeout=5, protocol=2)
    seed(r, users=2)
    census = take_census([r], CONTRACT, Bounds())
    sessions = census.pattern("user_session")
    assert sessions.memory_per_key is None
    assert sessions.memory_note.startswith("MEMORY USAGE refused (")
    assert sessions.violations == ()


def test_keys_deleted_mid_census_are_not_violations(census_redis):
    r = fresh(census_redis, 6)
    seed(r, users=50)
    r.set("user_session:short-lived", document(STATE), px=1)
    time.sleep(0.01)
    census = take_census([r], CONTRACT, Bounds(full_scan=True))
    assert census.pattern("user_session").violations == ()


@pytest.fixture(scope="module")
def tls_redis(redis_factory, tmp_path_factory):
    """A redis-server that speaks only TLS, with a certificate from a CA made for the test."""
    pki = make_pki(tmp_path_factory.mktemp("tls"))
    tls = start_tls_redis(redis_factory, pki, pki.issue("server"))
    return tls.tls_port, str(pki.ca_file), tls.server


def test_census_over_tls(tls_redis):
    port, ca_file, _ = tls_redis
    r = redis.Redis(host="127.0.0.1", port=port, ssl=True, ssl_ca_certs=ca_file, socket_timeout=5, protocol=2)
    seed(r, users=400)
    census = take_census([r], CONTRACT, Bounds(full_scan=True))
    assert census.complete
    assert census.examined == census.scanned == 2000
    assert all(p.violations == () for p in census.patterns)


def test_census_on_a_cluster_node_gets_values_one_by_one(redis_factory):
    # An explicit bus port: the default (port + 10000) does not exist above port 55535.
    server = redis_factory(
        "cluster-enabled yes", "cluster-config-file nodes.conf", f"cluster-port {free_port()}"
    )
    r = redis.Redis(port=server.port, socket_timeout=5, protocol=2)
    r.execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 16383)
    for _ in range(100):  # the node serves its slots once the cluster state is ok
        if r.cluster("info")["cluster_state"] == "ok":
            break
        time.sleep(0.05)
    seed(r, users=20)  # keys in many slots: an MGET of them would be refused with CROSSSLOT
    r.set("user_session:mood", document(SESSION, mood_score=2), ex=60)
    r.config_resetstat()
    census = take_census([r], CONTRACT, Bounds(full_scan=True), cluster=True)
    assert census.complete
    assert census.examined == 101
    assert census.pattern("user_session").failures("shape") == 1
    assert "mget" not in calls(r)
