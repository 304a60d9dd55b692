"""Real redis-server processes and a way to run the real suite against them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from redis_preflight.ephemeral.local_server import LocalRedis

ROOT = Path(__file__).resolve().parents[1]


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


@dataclass
class Outcome:
    """What one run of the real suite left: exit code, terminal output, reports."""

    returncode: int
    output: str
    report_dir: Path

    @property
    def summary(self) -> dict[str, Any]:
        return json.loads((self.report_dir / "summary.json").read_text())

    def check(self, name: str) -> dict[str, Any]:
        """The summary entry of the check whose id ends with `name` (e.g. "test_ping")."""
        matches = [c for c in self.summary["checks"] if c["id"].split("::")[-1] == name]
        assert len(matches) == 1, f"{name}: {len(matches)} entries in summary.json"
        return matches[0]

    def outputs(self) -> str:
        """Everything a person or a pipeline can read of this run."""
        files = [p.read_text(errors="replace") for p in self.report_dir.iterdir() if p.is_file()]
        return "\n".join([self.output, *files])


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

    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> Outcome:
        return run_suite(tmp_path / "reports", *args, cwd=tmp_path, env=env, timeout=timeout)

    return run
