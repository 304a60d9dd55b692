"""Real redis-server processes and a way to run the real suite against them."""

from __future__ import annotations

import functools
import html
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from redis_preflight.ephemeral.local_server import LocalRedis, redis_server_binary

ROOT = Path(__file__).resolve().parents[1]


@functools.cache
def server_line() -> tuple[int, int]:
    """(major, minor) of the redis-server the tests start: PREFLIGHT_TEST_REDIS_SERVER, else PATH's.

    .ci/run runs a subset of the tests against each supported line; where a line answers
    differently (Redis 6 has no ACL DRYRUN, names no subcommand in NOPERM), tests ask this.
    """
    binary = shutil.which(redis_server_binary()) or redis_server_binary()
    said = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True).stdout
    major, minor = re.search(r"v=(\d+)\.(\d+)", said).groups()  # type: ignore[union-attr]
    return int(major), int(minor)


REDIS_6 = server_line() < (7, 0)
# DEBUG is enabled by default before 7.0, which added the directive (unknown to Redis 6).
DEBUG_ENABLED = () if REDIS_6 else ("enable-debug-command yes",)


@pytest.fixture(scope="session")
def redis_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., LocalRedis]]:
    """Start a redis-server with extra redis.conf directives; all are stopped at the end."""
    started: list[LocalRedis] = []

    def start(*directives: str, wait_port: int | None = None, port: int = 0) -> LocalRedis:
        server = LocalRedis(tmp_path_factory.mktemp("redis"), list(directives), port=port)
        started.append(server.start(wait_port=wait_port))
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def plain_redis(redis_factory: Callable[..., LocalRedis]) -> LocalRedis:
    return redis_factory()


PASSWORD = "s3cr%t-p@ss/word"


@pytest.fixture(scope="session")
def password_redis(redis_factory: Callable[..., LocalRedis]) -> LocalRedis:
    return redis_factory(f'requirepass "{PASSWORD}"')


EVIDENCE = re.compile(r'<!-- evidence (.*?) --><div class="evidence">(.*?)</div><!-- /evidence -->', re.S)


@dataclass
class Outcome:
    """What one run of the real suite left: exit code, terminal output, and its reports, read at once
    (so that a later run into the same directory cannot change what this one is judged by)."""

    returncode: int
    output: str
    report_dir: Path
    files: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.files = {
            p.name: p.read_text(errors="replace")
            for p in (self.report_dir.iterdir() if self.report_dir.is_dir() else ())
            if p.is_file()
        }

    @property
    def summary(self) -> dict[str, Any]:
        assert "summary.json" in self.files, f"no summary.json in {self.report_dir}"
        return json.loads(self.files["summary.json"])

    def check(self, name: str) -> dict[str, Any]:
        """The summary entry of the check whose id ends with `name` (e.g. "test_ping")."""
        matches = [c for c in self.summary["checks"] if c["id"].split("::")[-1] == name]
        assert len(matches) == 1, f"{name}: {len(matches)} entries in summary.json"
        return matches[0]

    def evidence(self) -> dict[str, list[str]]:
        """The HTML each check attached to report.html, by test name (e.g. "test_ttl[blacklist]")."""
        page = self.files.get("report.html", "")
        found: dict[str, list[str]] = {}
        for check_id, fragment in EVIDENCE.findall(page):
            shown = found.setdefault(html.unescape(check_id).split("::")[-1], [])
            if fragment not in shown:  # a finding's evidence is shown once; keep each fragment once
                shown.append(fragment)
        return found

    def outputs(self) -> str:
        """Everything a person or a pipeline can read of this run."""
        return "\n".join([self.output, *self.files.values()])


def clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PREFLIGHT_") and k not in ("REDIS_URL", "HEALTH_URL")
    }
    env.update(extra)
    return env


def run_suite(
    report_dir: Path,
    *args: str,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> Outcome:
    """The console script (the real checks) in a subprocess; usable from any fixture scope."""
    command = [sys.executable, "-m", "redis_preflight.cli", "--report-dir", str(report_dir), *args]
    done = subprocess.run(
        command,
        cwd=cwd or report_dir.parent,
        env=env or clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Outcome(done.returncode, done.stdout + done.stderr, report_dir)


@pytest.fixture
def run_preflight(tmp_path: Path) -> Callable[..., Outcome]:
    """Run the console script from an empty directory, its reports in it."""

    runs = itertools.count()

    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> Outcome:
        report_dir = tmp_path / f"reports-{next(runs)}"  # every run its own reports
        return run_suite(report_dir, *args, cwd=tmp_path, env=env, timeout=timeout)

    return run
