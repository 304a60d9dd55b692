"""--renamed-command reaches the key census's raw RESP, `backup` and `contract infer`.

A server that renamed SCAN, TYPE, PTTL and MGET (and DUMP) holds the sample keyspace: without
the option the keys checks are unverified naming the command; with it they pass, and the new
names appear in no output.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
import redis

from conftest import clean_env
from helpers.backup import subcommand
from redis_preflight.contract.samples import seed

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


def test_backup_renamed(tmp_path, renamed_keys):
    path = tmp_path / "keys.jsonl"
    refused = subcommand("backup", "--redis-url", renamed_keys.url, "--out", str(path))
    assert refused.returncode != 0
    assert "SCAN" in refused.output and shown(refused.output) == []
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
    assert "SCAN" in refused.stderr and shown(refused.stdout + refused.stderr) == []
    done = infer(renamed_keys.url, *OPTIONS)
    assert done.returncode == 0, done.stderr
    assert "[[keys]]" in done.stdout or "pattern" in done.stdout, done.stdout
    assert shown(done.stdout + done.stderr) == []
