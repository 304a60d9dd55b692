"""`redis-preflight backup` and `restore` end to end, between real servers."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from helpers.backup import calls, seed_every_type, subcommand, writes
from helpers.topologies import start_cluster
from test_progress_e2e import run_on_a_terminal

from conftest import PASSWORD
from redis_preflight.backup.format import validate
from redis_preflight.backup.restore import Mode, Server, restore, verify
from redis_preflight.probes.keys.resp import open_pipe

KEYS = 100_000
DEBUG = "enable-debug-command yes"


def client(server) -> redis.Redis:
    return redis.Redis(port=server.port, socket_timeout=30, protocol=2)


def digest(server) -> bytes:
    return client(server).execute_command("DEBUG", "DIGEST")


def expiries(server, names: list[bytes]) -> list[int]:
    pipe = client(server).pipeline(transaction=False)
    for name in names:
        pipe.pexpiretime(name)
    return pipe.execute()


@pytest.fixture(scope="module")
def source(redis_factory):
    server = redis_factory(DEBUG)
    seed_every_type(client(server), KEYS)
    return server


@pytest.fixture(scope="module")
def exported(source, tmp_path_factory):
    """The backup of `source`, and the commands the backup sent there."""
    client(source).config_resetstat()
    path = tmp_path_factory.mktemp("backup") / "backup.jsonl"
    ran = subcommand("backup", "--redis-url", source.url, "--out", str(path))
    sent = calls(client(source))
    return path, ran, sent


def test_backup_reports_every_key(exported):
    path, ran, _ = exported
    assert ran.returncode == 0, ran.output
    assert f"backup: {KEYS:,} keys from redis://127.0.0.1:" in ran.output
    assert validate(path).keys == KEYS


def test_backup_sends_no_write(source, exported):
    _, _, sent = exported
    assert (sent["dump"], sent["pexpiretime"]) == (KEYS, KEYS), sent
    assert writes(client(source), sent) == []


def test_round_trip_gives_the_same_digest(source, exported, redis_factory):
    path, _, _ = exported
    target = redis_factory(DEBUG)
    ran = subcommand("restore", str(path), "--redis-url", target.url, "--allow-write")
    assert ran.returncode == 0, ran.output
    assert f"restore: {KEYS:,} of {KEYS:,} keys written to db 0 of redis://127.0.0.1:" in ran.output
    assert f"verify: {KEYS:,} keys match the file (type, expiry, length)" in ran.output
    assert client(target).dbsize() == KEYS
    assert digest(target) == digest(source)
    # DEBUG DIGEST sees whether a key expires, not when: compare every expiry to the millisecond.
    names = list(client(source).scan_iter(count=1000))
    assert expiries(target, names) == expiries(source, names)


def test_lines_are_readable_and_bytes_safe(exported):
    path, _, _ = exported
    lines = {}
    with path.open() as file:
        header = json.loads(next(file))
        for line in file:
            record = json.loads(line)
            lines.setdefault(record.get("type"), record)
            if record.get("key") == {"b64": "/wBiaW46MA=="}:  # b"\xff\x00bin:0", a string
                binary = record
    assert header["format"] == "redis-preflight-backup"
    assert header["server_version"].startswith("7.")
    assert header["source"].startswith("redis://127.0.0.1:")
    assert header["expiry"] == "exact"
    assert binary["value"] == {"b64": binary["value"]["b64"]}
    assert binary["pexpireat"] > time.time() * 1000
    assert lines["hash"]["value"][0][0] == "f0"
    assert lines["zset"]["value"][0][1].replace(".", "").isdigit()
    assert lines["stream"]["value"][0][1][0] == "field"
    assert lines[None]["end"] is True
    assert lines[None]["keys"] == KEYS


@pytest.fixture(scope="module")
def small_backup(redis_factory, tmp_path_factory) -> Path:
    server = redis_factory()
    seed_every_type(client(server), 60)
    path = tmp_path_factory.mktemp("small") / "small.jsonl"
    assert subcommand("backup", "--redis-url", server.url, "--out", str(path)).returncode == 0
    return path


def drop_trailer(lines):
    return lines[:-1]


def cut_mid_line(lines):
    return [*lines[:10], lines[10][:40]]


def edit_a_value(lines):
    return [*lines[:4], lines[4].replace(b"value", b"valve", 1), *lines[5:]]


def remove_a_line(lines):
    return [*lines[:4], *lines[5:]]


def swap_two_lines(lines):
    return [*lines[:4], lines[5], lines[4], *lines[6:]]


def another_tools_json(lines):
    return [b'{"user_session:1": {"type": "string", "value": "x", "ttl": 3600}}\n']


DAMAGE = [
    (drop_trailer, "line 62: the file ends after 61 lines without a trailer: truncated"),
    (cut_mid_line, "line 11: not a redis-preflight backup line (the file ends inside it: truncated?)"),
    (edit_a_value, "line 5: edited: its CRC-32 does not match its content"),
    (remove_a_line, "line 61: the trailer counts 60 keys, the file holds 59"),
    (swap_two_lines, "line 62: the SHA-256 of the lines does not match the trailer's"),
    (another_tools_json, "line 1: not a redis-preflight-backup file (its first line is not our header)"),
]


@pytest.mark.parametrize(("damage", "words"), DAMAGE, ids=[d.__name__ for d, _ in DAMAGE])
def test_damaged_file_is_refused_before_any_write(small_backup, redis_factory, tmp_path, damage, words):
    lines = small_backup.read_bytes().splitlines(keepends=True)
    assert len(lines) == 62  # header, 60 keys, trailer: the line numbers below depend on it
    damaged = tmp_path / "damaged.jsonl"
    damaged.write_bytes(b"".join(damage(lines)))
    target = redis_factory()
    ran = subcommand("restore", str(damaged), "--redis-url", target.url, "--allow-write")
    assert ran.returncode == 2, ran.output
    assert f"{damaged}: {words}" in ran.output
    assert "nothing was written" in ran.output
    assert client(target).dbsize() == 0
    assert writes(client(target), calls(client(target))) == []


def test_the_untouched_file_restores(small_backup, redis_factory):
    """The damage above is what the restore refused: the same file, unharmed, goes through."""
    ran = subcommand("restore", str(small_backup), "--redis-url", redis_factory().url, "--allow-write")
    assert ran.returncode == 0, ran.output
    assert "restore: 60 of 60 keys written" in ran.output


def test_non_empty_db_is_refused_without_replace_or_merge(small_backup, redis_factory):
    target = redis_factory()
    client(target).set("key:0", "mine")
    client(target).config_resetstat()
    ran = subcommand("restore", str(small_backup), "--redis-url", target.url, "--allow-write")
    assert ran.returncode == 4, ran.output
    assert f"db 0 of {target.url} holds 1 keys: nothing written; give --replace" in ran.output
    assert client(target).dbsize() == 1
    assert client(target).get("key:0") == b"mine"
    assert writes(client(target), calls(client(target))) == []


def test_without_allow_write_nothing_is_written(small_backup, redis_factory):
    target = redis_factory()
    ran = subcommand("restore", str(small_backup), "--redis-url", target.url)
    assert ran.returncode == 4, ran.output
    assert "holds 60 keys for db 0 of" in ran.output
    assert "nothing written without --allow-write" in ran.output
    assert client(target).dbsize() == 0
    assert writes(client(target), calls(client(target))) == []


@pytest.mark.parametrize(("flag", "kept"), [("--merge", b"mine"), ("--replace", None)])
def test_merge_keeps_and_replace_overwrites(small_backup, redis_factory, flag, kept):
    target = redis_factory()
    client(target).set("key:1", "mine")  # key:1 is a hash in the file
    client(target).set("not-in-file", "mine")
    ran = subcommand("restore", str(small_backup), "--redis-url", target.url, "--allow-write", flag)
    assert ran.returncode == 0, ran.output
    assert client(target).get("not-in-file") == b"mine"
    assert client(target).dbsize() == 61
    if kept:
        assert client(target).get("key:1") == kept
        assert "1 already there, kept (--merge)" in ran.output
    else:
        assert client(target).type("key:1") == b"hash"
        assert "60 of 60 keys written" in ran.output


def test_expired_keys_are_skipped_and_counted(redis_factory, tmp_path):
    source, target = redis_factory(), redis_factory()
    client(source).set("soon", "x", px=15_000)  # outlives a backup on a busy machine
    client(source).set("stays", "x", ex=3600)
    path = tmp_path / "b.jsonl"
    assert subcommand("backup", "--redis-url", source.url, "--out", str(path)).returncode == 0
    soon = next(json.loads(line) for line in path.read_text().splitlines() if '"key":"soon"' in line)
    time.sleep(max(0.0, soon["pexpireat"] / 1000 - time.time() + 0.05))
    ran = subcommand("restore", str(path), "--redis-url", target.url, "--allow-write")
    assert ran.returncode == 0, ran.output
    assert "restore: 1 of 2 keys written" in ran.output
    assert "1 already expired, skipped" in ran.output
    assert client(target).keys() == [b"stays"]


def test_an_older_server_gets_typed_writes(redis_factory, tmp_path):
    """Payloads newer than the target's RDB format go back as SET, HSET, ... then PEXPIREAT.

    The target is told it reads RDB 9 (Redis 6.2): every payload (RDB 10) takes the typed path.
    Streams are left out: typed writes do not bring back consumer groups, which DEBUG DIGEST sees.
    """
    source, target = redis_factory(DEBUG), redis_factory(DEBUG)
    seed_every_type(client(source), 600)
    for key in client(source).scan_iter(_type="stream"):
        client(source).delete(key)
    path = tmp_path / "b.jsonl"
    assert subcommand("backup", "--redis-url", source.url, "--out", str(path)).returncode == 0
    manifest = validate(path)
    with open_pipe(client(target)) as pipe:
        written = restore(manifest, pipe, Server("6.2.0", 9), Mode.EMPTY)
        checked = verify(manifest, pipe, Server("6.2.0", 9), Mode.EMPTY)
    assert (written.done, written.typed, written.problems) == (manifest.keys, manifest.keys, 0), written
    assert (checked.done, checked.problems) == (manifest.keys, 0), checked
    assert digest(target) == digest(source)


def test_match_exports_only_matching_keys_once(redis_factory, tmp_path):
    source = redis_factory()
    for name in ("user_session:1", "user_session:2", "rate_limit:1", "other:1"):
        client(source).set(name, "x")
    path = tmp_path / "b.jsonl"
    ran = subcommand(
        "backup", "--redis-url", source.url, "--out", str(path), "--match", "user_session:*", "--match", "*:1"
    )
    assert ran.returncode == 0, ran.output
    names = sorted(json.loads(line)["key"] for line in path.read_text().splitlines()[1:-1])
    assert names == ["other:1", "rate_limit:1", "user_session:1", "user_session:2"]


def test_throttle_holds_the_rate(redis_factory, tmp_path):
    source = redis_factory()
    client(source).mset({f"k{n}": "x" for n in range(300)})
    started = time.monotonic()
    ran = subcommand(
        "backup", "--redis-url", source.url, "--out", str(tmp_path / "b.jsonl"), "--max-ops-per-sec", "1000"
    )
    assert ran.returncode == 0, ran.output
    # 300 keys: SCAN pages plus TYPE, PEXPIRETIME, DUMP and GET each, about 1,200 commands.
    assert time.monotonic() - started >= 1.1


def test_unreachable_server_is_diagnosed(tmp_path):
    ran = subcommand("backup", "--redis-url", "redis://127.0.0.1:1/0", "--out", str(tmp_path / "b.jsonl"))
    assert ran.returncode == 3, ran.output
    assert "redis://127.0.0.1:1/0: " in ran.output
    assert "refused" in ran.output.lower()


@pytest.mark.xdist_group("cluster")
def test_cluster_backup_covers_every_primary(tmp_path_factory, redis_factory, tmp_path):
    cluster = start_cluster(tmp_path_factory.mktemp("backup-cluster"), primaries=3, replicas=0)
    try:
        writer = redis.RedisCluster(host="127.0.0.1", port=cluster.nodes[0].port, socket_timeout=5)
        for n in range(300):
            writer.set(f"key:{n}", n, ex=3600)
        writer.close()
        path = tmp_path / "b.jsonl"
        ran = subcommand("backup", "--redis-url", cluster.url, "--out", str(path))
        into_cluster = subcommand(
            "restore", str(path), "--redis-url", cluster.url, "--allow-write", "--replace"
        )
    finally:
        cluster.stop()
    assert into_cluster.returncode == 4, into_cluster.output
    assert "is a cluster node: restore into a cluster is not supported yet" in into_cluster.output
    assert ran.returncode == 0, ran.output
    assert "backup: 300 keys from" in ran.output
    assert validate(path).header["primaries"] == 3
    target = redis_factory()
    restored = subcommand("restore", str(path), "--redis-url", target.url, "--allow-write")
    assert "verify: 300 keys match the file" in restored.output, restored.output
    assert sorted(client(target).keys()) == sorted(f"key:{n}".encode() for n in range(300))


def test_the_password_is_in_no_output(password_redis, tmp_path):
    url = f"redis://:{quote(PASSWORD, safe='')}@127.0.0.1:{password_redis.port}/0"
    redis.Redis.from_url(url).set("k", "v")
    path = tmp_path / "b.jsonl"
    backup = subcommand("backup", "--redis-url", url, "--out", str(path))
    restore = subcommand("restore", str(path), "--redis-url", url, "--allow-write", "--replace")
    assert backup.returncode == restore.returncode == 0, backup.output + restore.output
    for text in (backup.output, restore.output, path.read_text()):
        assert PASSWORD not in text
        assert quote(PASSWORD, safe="") not in text
    assert validate(path).header["source"] == f"redis://:***@127.0.0.1:{password_redis.port}/0"


@pytest.mark.parametrize("ci", [None, "true"])
def test_progress_on_a_terminal_only(redis_factory, tmp_path, ci):
    source = redis_factory()
    client(source).mset({f"k{n}": "x" for n in range(3000)})
    env = {"CI": ci} if ci else {}
    path = tmp_path / "b.jsonl"
    code, output = run_on_a_terminal(
        ["backup", "--redis-url", source.url, "--out", str(path), "--max-ops-per-sec", "6000"], tmp_path, env
    )
    assert code == 0, output
    if ci:
        assert "backup: 3,000 keys from" in output
        assert "keys/s, about" not in output
    else:
        assert re.search(r"\rbackup: [\d,]+ of 3,000 keys, [\d,]+ keys/s, about \d+ s left", output), output


def test_a_value_over_the_reply_cap_needs_max_reply_bytes(redis_factory, tmp_path):
    source, target = redis_factory(), redis_factory()
    client(source).set("big", b"x" * (20 << 20))
    path = tmp_path / "b.jsonl"
    refused = subcommand("backup", "--redis-url", source.url, "--out", str(path))
    assert refused.returncode == 3, refused.output
    assert "exceeded 16 MiB (--max-reply-bytes)" in refused.output
    cap = ("--max-reply-bytes", str(64 << 20))
    assert subcommand("backup", "--redis-url", source.url, "--out", str(path), *cap).returncode == 0
    restored = subcommand("restore", str(path), "--redis-url", target.url, "--allow-write", *cap)
    assert "verify: 1 keys match the file" in restored.output, restored.output
