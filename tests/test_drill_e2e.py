"""The restore drill end to end: a backup of planted contract defects, judged as the live server is."""

from __future__ import annotations

import re
import shutil
import time

import pytest
import redis
from helpers.backup import subcommand
from helpers.keys import seed_defects_a

from conftest import run_suite

SECONDS = re.compile(r"[\d.,]+ (s|min|h|d|keys/s)\b")
DRILL_CHECKS = ("test_backup_age", "test_backup_key_count")


def keys_results(outcome) -> dict[str, tuple[str, str, str]]:
    """Every keys check but the drill's own: outcome, severity, message (seconds and rates blanked:
    TTLs run down and the census takes its own time)."""
    return {
        c["id"].split("::")[-1]: (c["outcome"], c["severity"], SECONDS.sub(r"# \1", c["message"]))
        for c in outcome.summary["checks"]
        if c["area"] == "keys" and c["id"].split("::")[-1] not in DRILL_CHECKS
    }


def check(outcome, name: str) -> dict:
    return next(c for c in outcome.summary["checks"] if c["id"].endswith(f"::{name}"))


@pytest.fixture(scope="module")
def defects(redis_factory, tmp_path_factory):
    """A server holding the default contract's planted defects; its RDB (BGSAVE) and a backup file."""
    server = redis_factory()
    client = redis.Redis(port=server.port, socket_timeout=30)
    seed_defects_a(client)
    # A minute's TTLs would run out while the module runs: the live run and the drills would then
    # judge different keyspaces. Longer ones keep every planted defect (under 1 h, short of the JWT).
    for key in [*client.scan_iter("rate_limit:*"), *client.scan_iter("blacklist:*")]:
        if client.ttl(key) < 600:
            client.expire(key, 3000 if key.startswith(b"rate_limit:") else 600)
    client.bgsave()
    while client.info("persistence")["rdb_bgsave_in_progress"]:
        time.sleep(0.01)
    assert client.info("persistence")["rdb_last_bgsave_status"] == "ok"
    folder = tmp_path_factory.mktemp("drill")
    rdb = folder / "dump.rdb"
    shutil.copyfile(server.directory / "dump.rdb", rdb)
    backup = folder / "backup.jsonl"
    assert subcommand("backup", "--redis-url", server.url, "--out", str(backup)).returncode == 0
    live = run_suite(folder / "live", "--redis-url", server.url, "--only", "keys")
    return server, rdb, backup, live


@pytest.mark.parametrize("option", ["--rdb", "--backup"])
def test_drill_finds_what_the_live_run_finds(defects, tmp_path, option):
    server, rdb, backup, live = defects
    given = rdb if option == "--rdb" else backup
    drill = run_suite(tmp_path / "reports", option, str(given), "--redis-url", server.url)
    assert drill.returncode == live.returncode == 1, drill.output
    assert keys_results(drill) == keys_results(live)
    assert [c for c in keys_results(drill).values() if c[0] == "failed"]  # the planted defects
    assert {c["area"] for c in drill.summary["checks"]} == {"keys"}
    assert check(drill, "test_backup_age")["outcome"] == "passed"
    assert (
        check(drill, "test_backup_key_count")["message"]
        == "22 keys in the backup, 22 in the live server now (100%)"
    )


def test_backup_age_and_count_are_judged(defects, tmp_path):
    server, rdb, _, _ = defects
    client = redis.Redis(port=server.port, socket_timeout=5)
    client.mset({f"later:{n}": "x" for n in range(10)})
    try:
        drill = run_suite(
            tmp_path / "reports", "--rdb", str(rdb), "--redis-url", server.url, "--max-save-age", "0.00001"
        )
    finally:
        client.delete(*[f"later:{n}" for n in range(10)])
    age = check(drill, "test_backup_age")
    assert (age["outcome"], age["severity"]) == ("advisory", "advisory"), age
    assert "RDB dump.rdb written 0.0 h ago" in age["message"]
    assert "(--max-save-age)" in age["message"]
    count = check(drill, "test_backup_key_count")
    assert (count["outcome"], count["severity"]) == ("advisory", "advisory"), count
    assert count["message"].startswith(
        "22 keys in the backup, 32 in the live server now (69%): more than 10% apart"
    )


def test_drill_without_a_live_server_skips_the_count(defects, tmp_path):
    _, rdb, _, _ = defects
    drill = run_suite(tmp_path / "reports", "--rdb", str(rdb))
    count = check(drill, "test_backup_key_count")
    assert count["outcome"] == "not_applicable"
    assert count["message"].startswith("no live server to compare with: give --redis-url too")


def test_a_newer_rdb_format_is_named(defects, tmp_path):
    _, rdb, _, _ = defects
    newer = tmp_path / "newer.rdb"
    data = rdb.read_bytes()
    newer.write_bytes(b"REDIS0099" + data[9:])
    drill = run_suite(tmp_path / "reports", "--rdb", str(newer))
    assert drill.returncode == 4, drill.output
    local = "the local redis-server 7.0.15 reads formats up to 10"
    assert f"{newer} is RDB format 99 (written by Redis 7.0.15); {local}" in drill.output


def test_a_damaged_rdb_is_a_usage_error(tmp_path):
    broken = tmp_path / "broken.rdb"
    broken.write_bytes(b"REDIS0010" + b"\x00" * 64)
    drill = run_suite(tmp_path / "reports", "--rdb", str(broken))
    assert drill.returncode == 4, drill.output
    assert f"the local redis-server could not load {broken}: " in drill.output


def test_a_damaged_backup_file_names_the_line(defects, tmp_path):
    _, _, backup, _ = defects
    damaged = tmp_path / "damaged.jsonl"
    damaged.write_bytes(b"".join(backup.read_bytes().splitlines(keepends=True)[:-1]))
    drill = run_suite(tmp_path / "reports", "--backup", str(damaged))
    assert drill.returncode == 4, drill.output
    assert f"{damaged}: line 24: the file ends after 23 lines without a trailer: truncated" in drill.output
