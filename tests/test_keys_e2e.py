"""The keys area end to end: the real suite against real servers seeded with each defect."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import redis
from helpers.browser import CHROMIUM, Listener, render, report_requests
from helpers.keys import (
    EXPECTED_A,
    EXPECTED_B,
    Expected,
    client,
    seed_defects_a,
    seed_defects_b,
)
from helpers.topologies import start_cluster

from conftest import run_suite
from redis_preflight.contract.samples import sample_keyspace, seed
from redis_preflight.verdict.summary import EXIT_INCOMPLETE

PATTERNS = ("user_session", "ws_connections", "goal_state", "blacklist", "rate_limit")
KEYS_CHECKS = {
    f"{check}[{pattern}]" for check in ("test_shape", "test_ttl", "test_ttl_bounds") for pattern in PATTERNS
} | {"test_census", "test_unmatched_keys", "test_backup_age", "test_backup_key_count"}


@pytest.fixture(scope="module")
def keys_redis(redis_factory):
    return redis_factory()


def db_url(server, db: int) -> str:
    return f"redis://127.0.0.1:{server.port}/{db}"


@pytest.fixture(scope="module")
def defect_runs(keys_redis, tmp_path_factory):
    """One run of the suite per defect keyspace (db 1 and db 2 of one server)."""
    runs = {}
    for name, db, seeder in (("a", 1, seed_defects_a), ("b", 2, seed_defects_b)):
        seeder(client(db_url(keys_redis, db)))
        report_dir = tmp_path_factory.mktemp(f"defects-{name}") / "reports"
        runs[name] = run_suite(report_dir, "--redis-url", db_url(keys_redis, db), "-k", "test_keys")
    return runs


def keys_results(outcome) -> dict[str, dict]:
    return {c["id"].split("::")[-1]: c for c in outcome.summary["checks"] if c["area"] == "keys"}


def test_valid_keyspace_passes(run_preflight, keys_redis):
    seed(client(db_url(keys_redis, 0)), users=4)
    outcome = run_preflight("--redis-url", db_url(keys_redis, 0))
    assert outcome.returncode == 0, outcome.output
    results = keys_results(outcome)
    assert set(results) == KEYS_CHECKS
    skipped = {name for name, c in results.items() if c["outcome"] == "not_applicable"}
    assert skipped == {"test_ttl_bounds[goal_state]", "test_backup_age", "test_backup_key_count"}
    assert "no backup to drill: give --rdb" in results["test_backup_age"]["message"]
    assert all(c["outcome"] == "passed" for name, c in results.items() if name not in skipped)
    assert results["test_shape[user_session]"]["message"] == (
        "examined 4 of 4 user_session keys (DBSIZE 20): every value keeps the shape"
    )
    assert "until the token's exp" in results["test_ttl_bounds[blacklist]"]["message"]
    assert results["test_ttl[goal_state]"]["severity"] == "advisory"
    assert results["test_ttl[blacklist]"]["severity"] == "blocking"
    assert results["test_census"]["message"].startswith("scanned 20 keys (DBSIZE 20), examined 20 in ")


@pytest.mark.parametrize(
    ("run", "expected"),
    [("a", e) for e in EXPECTED_A] + [("b", e) for e in EXPECTED_B],
    ids=[f"a-{e.check}" for e in EXPECTED_A] + [f"b-{e.check}" for e in EXPECTED_B],
)
def test_defect_is_found_by_its_check(defect_runs, run: str, expected: Expected):
    result = keys_results(defect_runs[run])[expected.check]
    found = "failed" if expected.severity == "blocking" else "advisory"
    assert (result["outcome"], result["severity"]) == (found, expected.severity), result
    assert expected.words in result["message"], result["message"]


@pytest.mark.parametrize(("run", "expected"), [("a", EXPECTED_A), ("b", EXPECTED_B)])
def test_defects_fail_nothing_else(defect_runs, run, expected):
    outcome = defect_runs[run]
    assert outcome.returncode == 1, outcome.output
    failed = {name for name, c in keys_results(outcome).items() if c["outcome"] in ("failed", "advisory")}
    assert failed == {e.check for e in expected}
    assert not [c for c in outcome.summary["checks"] if c["outcome"] == "error"]


def test_jwt_message_names_both_lives(defect_runs):
    message = keys_results(defect_runs["a"])["test_ttl_bounds[blacklist]"]["message"]
    assert re.search(
        r"blacklist:eyJhbG\.\.\.\(\d+ chars\): TTL [\d.]+ s but the token expires in 2 h", message
    )


def test_report_shows_census_ttl_picture_and_masked_keys(defect_runs):
    extras = "\n".join(sum(defect_runs["a"].evidence().values(), []))
    assert "<p>Key census of the whole keyspace (DBSIZE 22) in " in extras
    assert extras.count('<svg xmlns="http://www.w3.org/2000/svg"') == 5  # a TTL picture per pattern
    assert "<title>TTL of the 5 examined user_session:* keys</title>" in extras
    assert "<td>1-7 d</td>" not in extras
    assert re.search(r"<code>blacklist:eyJhbG\.\.\.\(\d+ chars\)</code>: TTL", extras)
    assert "src=" not in extras
    assert "http" not in extras.replace("http://www.w3.org/2000/svg", "")
    token_start = "blacklist:eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    for path in defect_runs["a"].report_dir.iterdir():
        assert token_start not in path.read_text(), f"an unmasked token in {path.name}"


HOSTILE_KEYS = (
    b"user_session:<script>document.title='PWNED'</script>",
    b"user_session:<img src=x onerror=\"document.title='PWNED'\">",
    b"user_session:line\nbreak\r\x1b[31m\x00\xff",
)


@pytest.fixture(scope="module")
def hostile_run(keys_redis, tmp_path_factory):
    """A keyspace whose key names are HTML, script, control characters and invalid UTF-8."""
    r = client(db_url(keys_redis, 3))
    for key in HOSTILE_KEYS:
        r.set(key, b"not json", ex=60)
    r.set(b"<b>bold</b>:x", b"1")
    return run_suite(tmp_path_factory.mktemp("hostile") / "reports", "--redis-url", db_url(keys_redis, 3))


def test_hostile_key_names_are_shown_escaped(hostile_run):
    message = keys_results(hostile_run)["test_shape[user_session]"]["message"]
    assert "invalid JSON x3" in message
    assert "\n" not in message
    extras = "\n".join(sum(hostile_run.evidence().values(), []))
    assert "<script" not in extras
    assert "<img" not in extras
    assert "<b>" not in extras
    assert "&lt;script&gt;document.title=&#x27;PWNED&#x27;&lt;/script&gt;" in extras
    assert "&lt;img src=x onerror=&quot;document.title=&#x27;PWNED&#x27;&quot;&gt;" in extras
    assert r"user_session:line\nbreak\r\x1b[31m\x00\xff" in extras
    assert "&lt;b&gt;bold&lt;/b&gt;:* 1" in extras


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (apt-get install chromium)")
def test_hostile_key_names_stay_text_in_a_browser(hostile_run, tmp_path):
    trap = Listener(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
    try:
        dom = render(hostile_run.report_dir / "report.html", trap.port, tmp_path, "--dump-dom")
    finally:
        trap.close()
    assert "Key census of the whole keyspace" in dom  # the extras were rendered...
    assert "PWNED" not in dom.split("</title>")[0]  # ...and no script from a key name ran
    assert "&lt;script&gt;document.title=" in dom
    assert report_requests(trap) == []


def test_contract_of_your_own(run_preflight, keys_redis, tmp_path: Path):
    contract = tmp_path / "invoices_contract.py"
    contract.write_text(
        "from datetime import timedelta\n"
        "from pydantic import BaseModel, ConfigDict\n"
        "from redis_preflight.contract import KeyPattern, TtlPolicy\n"
        "from redis_preflight.contract.goals_tracker import CONTRACT as TRACKER\n"
        "class Invoice(BaseModel):\n"
        "    model_config = ConfigDict(strict=True)\n"
        "    total_cents: int\n"
        "CONTRACT = TRACKER.plus(\n"
        "    KeyPattern(name='invoice', prefix='invoice:', value=Invoice,\n"
        "               ttl=TtlPolicy(max_ttl=timedelta(days=30))))\n"
    )
    r = client(db_url(keys_redis, 4))
    r.set("invoice:1", b'{"total_cents": 100}', ex=3600)
    r.set("invoice:2", b'{"total_cents": "100"}', ex=3600)
    r.set("rate_limit:u1", b"3", ex=7000)
    outcome = run_preflight(
        "--redis-url",
        db_url(keys_redis, 4),
        "--contract",
        str(contract),
        "--key-policies",
        '{"rate_limit": {"max_ttl": 7200}}',
    )
    results = keys_results(outcome)
    assert results["test_shape[invoice]"]["outcome"] == "failed"
    assert "total_cents: Input should be a valid integer" in results["test_shape[invoice]"]["message"]
    assert results["test_ttl_bounds[rate_limit]"]["outcome"] == "passed"
    assert "at most 2 h" in results["test_ttl_bounds[rate_limit]"]["message"]
    assert results["test_shape[user_session]"]["outcome"] == "not_applicable"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--contract", "no_such_module_here"), "contract 'no_such_module_here' (--contract) failed to load"),
        (
            ("--contract", "redis_preflight.contract.samples"),
            "has no CONTRACT of type redis_preflight.contract.Contract",
        ),
        (
            ("--key-policies", '{"sessions": {"ttl": "advisory"}}'),
            "key policy for unknown pattern 'sessions'",
        ),
        (("--key-policies", "{not json"), "invalid key_policies '{not json' from the command line"),
        (("--key-sample", "0"), "invalid key_sample 0 from the command line (--key-sample)"),
    ],
)
def test_bad_contract_settings_are_usage_errors(run_preflight, keys_redis, args, words):
    outcome = run_preflight("--redis-url", db_url(keys_redis, 0), *args)
    assert outcome.returncode == 4, outcome.output
    assert words in outcome.output
    assert "Traceback" not in outcome.output
    assert outcome.summary["verdict"] == "error"


def test_empty_db(run_preflight, keys_redis):
    outcome = run_preflight("--redis-url", db_url(keys_redis, 9), "-k", "test_keys")
    assert outcome.returncode == 0, outcome.output
    results = keys_results(outcome)
    assert results["test_unmatched_keys"]["message"] == "no keys scanned: the db is empty"
    assert results["test_shape[user_session]"]["message"] == (
        "no user_session:* keys among the 0 scanned (the whole keyspace): nothing to judge"
    )


def test_user_without_scan_skips_naming_the_command(run_preflight, redis_factory):
    server = redis_factory("user default on nopass ~* &* +@all -scan")
    outcome = run_preflight("--redis-url", server.url, "-k", "test_keys")
    assert outcome.returncode == EXIT_INCOMPLETE, outcome.output  # never a pass for an unseen keyspace
    assert outcome.summary["verdict"] == "incomplete"
    results = keys_results(outcome)
    census_based = [c for name, c in results.items() if not name.startswith("test_backup_")]
    assert {c["outcome"] for c in census_based} == {"unverified"}
    census = results["test_census"]["message"]
    assert census.startswith("NOPERM at 127.0.0.1:"), census
    assert "may not run SCAN; grant it (ACL SETUSER default +scan)" in census


def test_a_long_census_is_not_cut_by_the_backstop(run_preflight, keys_redis):
    r = client(db_url(keys_redis, 5))
    seed(r, users=60)  # 300 keys: about 900 commands, 4.5 s at 200 per second
    outcome = run_preflight(
        "--redis-url", db_url(keys_redis, 5), "--max-ops-per-sec", "200", "--full-scan", "--timeout", "2"
    )
    assert outcome.returncode == 0, outcome.output
    census = keys_results(outcome)["test_census"]
    assert census["outcome"] == "passed"
    assert census["message"].startswith("scanned 300 keys (DBSIZE 300), examined 300 in ")
    assert "at most 200 ops/s" in census["message"]


@pytest.fixture(scope="module")
def small_cluster(tmp_path_factory):
    """Three primaries, no replicas: the census must scan each of them."""
    cluster = start_cluster(tmp_path_factory.mktemp("keys-cluster"), primaries=3, replicas=0)
    yield cluster
    cluster.stop()


@pytest.mark.xdist_group("cluster")
def test_cluster_census_covers_every_primary(run_preflight, small_cluster):
    writer = redis.RedisCluster(host="127.0.0.1", port=small_cluster.nodes[0].port, socket_timeout=5)
    entries = sample_keyspace(users=30)
    for key, value, ttl in entries:
        writer.set(key, value, ex=ttl)
    writer.set("user_session:broken", b"{}", ex=60)
    writer.close()
    outcome = run_preflight("--redis-url", small_cluster.url, "-k", "test_keys", "--full-scan")
    results = keys_results(outcome)
    assert results["test_census"]["message"].startswith("scanned 151 keys (DBSIZE 151), examined 151 in ")
    shape = results["test_shape[user_session]"]
    assert shape["outcome"] == "failed"
    assert "missing field x1 (user_session:broken: " in shape["message"]
    assert results["test_shape[ws_connections]"]["outcome"] == "passed"
