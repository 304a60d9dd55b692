"""A long census shows its progress on a terminal, and stays quiet in a CI log."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

import pytest
import redis

from conftest import clean_env

ARGS = ("--only", "keys", "--full-scan", "--max-ops-per-sec", "10000")


@pytest.fixture(scope="module")
def ten_thousand_keys(redis_factory):
    server = redis_factory()
    client = redis.Redis(port=server.port)
    with client.pipeline(transaction=False) as pipe:
        for n in range(10_000):
            pipe.set(f"rate_limit:user-{n}", n, ex=600)
        pipe.execute()
    return server


def run_on_a_terminal(args: list[str], tmp_path, extra_env: dict[str, str] | None = None) -> tuple[int, str]:
    """The console script with a pseudo-terminal as its stdout, as a person would run it."""
    primary, secondary = pty.openpty()
    env = clean_env(TERM="xterm")
    env.pop("CI", None)  # a person at a terminal, even when this test itself runs in CI
    env.update(extra_env or {})
    report = [] if args[0] in ("backup", "restore") else ["--report-dir", str(tmp_path / "r")]
    process = subprocess.Popen(
        [sys.executable, "-m", "redis_preflight.cli", *report, *args],
        stdout=secondary,
        stderr=secondary,
        env=env,
        cwd=tmp_path,
    )
    os.close(secondary)
    output = read_all(primary)
    return process.wait(timeout=120), output


def read_all(primary: int) -> str:
    chunks = []
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # the terminal closes when the process exits
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(primary)
    return b"".join(chunks).decode(errors="replace")


def test_progress_on_a_terminal(ten_thousand_keys, tmp_path):
    returncode, output = run_on_a_terminal(["--redis-url", ten_thousand_keys.url, *ARGS], tmp_path)
    assert returncode == 0, output
    assert "key census: " in output
    assert " of 10,000 keys scanned, " in output
    assert " keys/s" in output


def test_no_progress_in_a_ci_log(run_preflight, ten_thousand_keys):
    outcome = run_preflight("--redis-url", ten_thousand_keys.url, *ARGS)
    assert outcome.returncode == 0, outcome.output
    assert "key census:" not in outcome.output
    assert outcome.check("test_census")["outcome"] == "passed"


def test_no_progress_on_a_terminal_when_ci_is_set(ten_thousand_keys, tmp_path):
    primary, secondary = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "redis_preflight.cli", "--report-dir", str(tmp_path / "r"),
         "--redis-url", ten_thousand_keys.url, *ARGS],
        stdout=secondary, stderr=secondary, env=clean_env(TERM="xterm", CI="true"), cwd=tmp_path,
    )  # fmt: skip
    os.close(secondary)
    output = read_all(primary)
    assert process.wait(timeout=120) == 0, output
    assert "key census:" not in output
