"""`contract infer` then the gate with the inferred contract, on a keyspace apps wrote: PASS;
then one defect of each kind: each found under its pattern in one line, verdict FAIL."""

from __future__ import annotations

import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
import redis
from helpers.mixed_keyspace import DEFECTS, plant_defects, seed_mixed

from conftest import clean_env, run_suite
from redis_preflight.contract.file import from_table, load_file
from redis_preflight.contract.samples import seed
from redis_preflight.infer.draft import draft
from redis_preflight.probes.keys import take_census
from redis_preflight.probes.keys.census import Bounds
from redis_preflight.probes.keys.sample import sample_keyspace

FAMILIES = {"session", "user", "hits", "cache.page", "leaderboard", "ratelimit", "queue", "events"}


def infer(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "redis_preflight.cli", "contract", "infer", "--redis-url", url, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False, env=clean_env())


@pytest.fixture(scope="module")
def mixed(redis_factory, tmp_path_factory):
    """The mixed keyspace, its inferred contract, the gate before and after the defects."""
    server = redis_factory()
    url = f"redis://127.0.0.1:{server.port}/0"
    r = redis.Redis(port=server.port, socket_timeout=5)
    seed_mixed(r)
    tmp = tmp_path_factory.mktemp("mixed")
    inferred = infer(url, "--full-scan", "--output", str(tmp / "contract.toml"))
    assert inferred.returncode == 0, inferred.stderr
    gate = ("--redis-url", url, "--contract", str(tmp / "contract.toml"), "-k", "test_keys", "--full-scan")
    before = run_suite(tmp / "before", *gate)
    plant_defects(r)
    after = run_suite(tmp / "after", *gate)
    return tmp / "contract.toml", before, after


def test_inferred_contract_names_each_family(mixed):
    path, _, _ = mixed
    contract = load_file(path)
    assert set(contract.names) == FAMILIES
    kinds = {p.name: p.type for p in contract.patterns}
    assert kinds == {
        "session": "string",
        "user": "hash",
        "hits": "string",
        "cache.page": "string",
        "leaderboard": "zset",
        "ratelimit": "zset",
        "queue": "list",
        "events": "stream",
    }
    text = path.read_text()
    assert "# session:{uuid}: inferred from 200 keys (string 200)" in text
    assert "# queue:emails, queue:reports, queue:webhooks: inferred from 3 keys (list 3)" in text
    assert 'encoding = "integer"' in text  # the INCR counters
    assert contract.pattern("cache.page").ttl.coverage == 0.96
    assert contract.pattern("user").ttl.required is False
    assert contract.pattern("leaderboard").max_members == 100


def test_the_same_keyspace_passes_with_its_inferred_contract(mixed):
    _, before, _ = mixed
    assert before.summary["verdict"] == "pass", before.output
    failed = [c["id"] for c in before.summary["checks"] if c["outcome"] == "failed"]
    assert failed == []
    assert before.returncode == 0


@pytest.mark.parametrize("defect", DEFECTS, ids=lambda d: d.check)
def test_each_defect_is_found_under_its_pattern_in_one_line(mixed, defect):
    _, _, after = mixed
    check = after.check(defect.check)
    assert check["outcome"] == "failed", check
    assert defect.words in check["message"]
    assert "\n" not in check["message"]


def test_the_defects_fail_the_gate_and_nothing_else_does(mixed):
    _, _, after = mixed
    assert after.summary["verdict"] == "fail"
    assert after.returncode == 1
    failed = {c["id"].split("::")[-1] for c in after.summary["checks"] if c["outcome"] == "failed"}
    assert failed == {d.check for d in DEFECTS}


def test_infer_is_read_only_and_bounded(redis_factory):
    server = redis_factory("rename-command KEYS NO_KEYS_HERE")
    r = redis.Redis(port=server.port, socket_timeout=5)
    seed_mixed(r, users=50)
    before = r.dbsize()
    r.config_resetstat()
    done = infer(f"redis://127.0.0.1:{server.port}/0", "--key-sample", "100", "--max-ops-per-sec", "5000")
    assert done.returncode == 0, done.stderr
    stats = r.info("commandstats")
    writes = {"cmdstat_set", "cmdstat_hset", "cmdstat_del", "cmdstat_expire", "cmdstat_zadd", "cmdstat_lpush"}
    assert not writes & set(stats)
    assert stats["cmdstat_scan"]["calls"] <= 2  # 100 keys: one or two pages of 200, never the whole db
    assert r.dbsize() == before
    assert done.stdout.startswith("# A starting contract inferred")
    assert f"of {before:,} keys" in done.stdout


def test_infer_throttles_its_reads(redis_factory):
    server = redis_factory()
    r = redis.Redis(port=server.port, socket_timeout=5, protocol=2)  # as the verifier's client
    seed_mixed(r, users=100)
    r.config_resetstat()
    started = time.monotonic()
    sample = sample_keyspace(r, Bounds(full_scan=True, max_ops_per_sec=2000))
    elapsed = time.monotonic() - started
    assert sample.complete
    calls = sum(s["calls"] for name, s in r.info("commandstats").items() if name != "cmdstat_config")
    assert calls > 1000
    assert calls / elapsed <= 2000 * 1.05, f"{calls} commands in {elapsed:.2f} s"


def test_infer_refused_a_read_says_so(redis_factory):
    server = redis_factory("user default on nopass ~* &* +@all -hrandfield")
    seed_mixed(redis.Redis(port=server.port, socket_timeout=5), users=5)
    done = infer(f"redis://127.0.0.1:{server.port}/0")
    assert done.returncode == 2
    assert done.stderr.startswith("redis-preflight contract infer: ")
    assert "hrandfield" in done.stderr.lower()
    assert done.stdout == ""


def test_infer_says_what_is_wrong_with_its_options():
    done = infer("redis://127.0.0.1:1/0")
    assert done.returncode == 2
    assert done.stderr.startswith("redis-preflight contract infer: ")
    assert "Traceback" not in done.stderr
    bad = infer("ftp://x")
    assert bad.returncode == 4
    assert "unsupported scheme" in bad.stderr
    command = [sys.executable, "-m", "redis_preflight.cli", "contract", "guess"]
    unknown = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert unknown.returncode == 4
    assert unknown.stderr.startswith("usage: redis-preflight contract infer --redis-url URL")


def test_report_draws_memory_per_pattern(mixed):
    _, before, _ = mixed
    extras = "\n".join(sum(before.evidence().values(), []))
    assert "Estimated memory per pattern (bar: estimate; grey band: 95% interval)" in extras
    assert extras.count("<tr><td>session:*</td><td><div") == 1  # one bar per pattern
    assert "per key (95% CI " in extras
    assert "MEMORY USAGE of 20 keys" in extras
    assert "<code>leaderboard:" in extras  # the largest keys, by members
    assert "<script" not in extras


def test_the_default_keyspace_keeps_its_inferred_contract(redis_factory):
    server = redis_factory()
    r = redis.Redis(port=server.port, socket_timeout=5, protocol=2)
    seed(r, users=40)
    text = draft(sample_keyspace(r, Bounds(full_scan=True)))
    contract = from_table(tomllib.loads(text), Path(), "draft")
    assert 'ip = { type = "string", format = "ip" }' in text
    assert "# TTL seen: 60 s to 60 s on 100.0% of the keys" in text
    assert set(contract.names) == {"user_session", "ws_connections", "goal_state", "blacklist", "rate_limit"}
    blacklist = contract.pattern("blacklist")
    assert blacklist.secret_in_name
    assert blacklist.ttl.covers_jwt_exp
    census = take_census([r], contract, Bounds(full_scan=True))
    assert [(p.name, p.violations) for p in census.patterns if p.violations] == []
    assert census.unmatched == ()
