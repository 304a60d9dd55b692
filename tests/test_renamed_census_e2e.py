"""--renamed-command reaches the key census's raw RESP, `backup` and `contract infer`.

A server that renamed SCAN, TYPE, PTTL and MGET (and DUMP) holds the sample keyspace: without
the option the keys checks are unverified naming the command; with it they pass, and the new
names appear in no output.
"""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
import redis
from helpers.backup import subcommand
from helpers.topologies import LocalCluster, cluster_node
from redis.exceptions import RedisClusterException

from conftest import clean_env
from redis_preflight.config.settings import PreflightSettings
from redis_preflight.config.target import parse_target
from redis_preflight.contract.samples import seed
from redis_preflight.probes.client import open_cluster_client

RENAMED = {
    "SCAN": "scan-5e1f0c2a9d",
    "TYPE": "type-b77c04e1aa",
    "PTTL": "pttl-0c9d7e3b52",
    "MGET": "mget-a41f6d08c3",
    "DUMP": "dump-93be2f7a10",
}
OPTIONS = [part for command, name in RENAMED.items() for part in ("--renamed-command", f"{command}={name}")]
KEYS_CHECKS = ("test_census", "test_shape", "test_ttl")


@pytest.fixture(scope="module")
def renamed_keys(redis_factory):
    server = redis_factory(*(f"rename-command {command} {name}" for command, name in RENAMED.items()))
    seed(redis.Redis(port=server.port))
    return server


def shown(text: str) -> list[str]:
    return [name for name in RENAMED.values() if name in text]


def keys_checks(outcome) -> list[dict]:
    return [c for c in outcome.summary["checks"] if c["id"].split("::")[-1].split("[")[0] in KEYS_CHECKS]


def test_without_the_option_the_keys_checks_are_unverified_naming_the_command(run_preflight, renamed_keys):
    outcome = run_preflight("--redis-url", renamed_keys.url, "--only", "keys")
    checks = keys_checks(outcome)
    assert checks, outcome.output
    assert all(c["outcome"] == "unverified" for c in checks), checks
    assert any("SCAN" in c["message"] for c in checks), checks
    assert outcome.summary["verdict"] != "PASS"


def test_with_the_option_the_census_runs_renamed_and_never_shows_the_names(run_preflight, renamed_keys):
    outcome = run_preflight("--redis-url", renamed_keys.url, "--only", "keys", *OPTIONS)
    checks = keys_checks(outcome)
    assert checks, outcome.output
    assert all(c["outcome"] == "passed" for c in checks), [(c["id"], c["message"]) for c in checks]
    assert outcome.check("test_census")["outcome"] == "passed"
    assert shown(outcome.outputs()) == []


# A restore target that renamed the commands restore and its verification send.
RESTORE_RENAMED = {
    "RESTORE": "restore-6b1d9e0f4c",
    "TYPE": "type-2f8a51c7e0",
    "PEXPIRETIME": "pexpiretime-d03c9b7a18",
    "STRLEN": "strlen-4e7f02a9b6",
}
RESTORE_OPTIONS = [
    part for command, name in RESTORE_RENAMED.items() for part in ("--renamed-command", f"{command}={name}")
]


def test_backup_renamed(tmp_path, renamed_keys):
    path = tmp_path / "keys.jsonl"
    refused = subcommand("backup", "--redis-url", renamed_keys.url, "--out", str(path))
    assert refused.returncode != 0
    assert "SCAN" in refused.output
    assert shown(refused.output) == []
    ran = subcommand("backup", "--redis-url", renamed_keys.url, "--out", str(path), *OPTIONS)
    assert ran.returncode == 0, ran.output
    written = path.read_text(encoding="utf-8")
    assert written.count("\n") >= redis.Redis(port=renamed_keys.port).dbsize()
    assert shown(ran.output + written) == []


def infer(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "redis_preflight.cli", "contract", "infer", "--redis-url", url, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=clean_env(),
    )


def test_contract_infer_renamed(renamed_keys):
    refused = infer(renamed_keys.url)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "SCAN" in refused.stderr
    assert shown(refused.stdout + refused.stderr) == []
    done = infer(renamed_keys.url, *OPTIONS)
    assert done.returncode == 0, done.stderr
    assert "[[keys]]" in done.stdout or "pattern" in done.stdout, done.stdout
    assert shown(done.stdout + done.stderr) == []


def test_restore_renamed(tmp_path, renamed_keys, redis_factory):
    path = tmp_path / "keys.jsonl"
    assert subcommand("backup", "--redis-url", renamed_keys.url, "--out", str(path), *OPTIONS).returncode == 0
    target = redis_factory(*(f"rename-command {command} {name}" for command, name in RESTORE_RENAMED.items()))
    secrets = list(RESTORE_RENAMED.values())
    refused = subcommand("restore", str(path), "--redis-url", target.url, "--allow-write")
    assert refused.returncode != 0, refused.output
    assert "RESTORE" in refused.output
    assert not [n for n in secrets if n in refused.output]
    redis.Redis(port=target.port).flushall()
    ran = subcommand("restore", str(path), "--redis-url", target.url, "--allow-write", *RESTORE_OPTIONS)
    assert ran.returncode == 0, ran.output
    assert redis.Redis(port=target.port).dbsize() == redis.Redis(port=renamed_keys.port).dbsize()
    assert not [n for n in secrets if n in ran.output]


CLUSTER_RENAMED = {"CLUSTER": "cluster-8d2e7f41ab", "COMMAND": "command-1c6b93e0d5"}


@pytest.fixture(scope="module")
def renamed_cluster(tmp_path_factory):
    """A lone node owning every slot, CLUSTER and COMMAND renamed (the bootstrap sends both)."""
    directives = [f"rename-command {command} {name}" for command, name in CLUSTER_RENAMED.items()]
    node = cluster_node(
        tmp_path_factory.mktemp("renamed-cluster"), "cluster-announce-ip 127.0.0.1", *directives
    )
    cluster = LocalCluster([node])
    try:
        admin = redis.Redis(port=node.port, decode_responses=True)
        admin.execute_command(CLUSTER_RENAMED["CLUSTER"], "ADDSLOTS", *range(16384))
        deadline = time.monotonic() + 30
        while "cluster_state:ok" not in admin.execute_command(CLUSTER_RENAMED["CLUSTER"], "INFO"):
            assert time.monotonic() < deadline, "the lone node never reached cluster_state:ok"
            time.sleep(0.1)
        yield cluster
    finally:
        cluster.stop()


def test_cluster_bootstrap_renamed(renamed_cluster):
    target = parse_target(f"redis://127.0.0.1:{renamed_cluster.nodes[0].port}")
    with pytest.raises((redis.RedisError, RedisClusterException)):
        open_cluster_client(target, PreflightSettings()).ping()  # type: ignore[call-arg]
    renames = [f"{command}={name}" for command, name in CLUSTER_RENAMED.items()]
    settings = PreflightSettings(renamed_command=renames)  # type: ignore[call-arg]
    cluster = open_cluster_client(target, settings)
    try:
        assert cluster.set("renamed:key", "1")
        assert cluster.get("renamed:key") == b"1"
    finally:
        cluster.close()
