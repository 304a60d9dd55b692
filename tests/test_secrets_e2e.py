"""No secret in any output: every file a run leaves, and its terminal, searched for each secret.

A secret of 2 or 5 characters that is an ordinary word ("mm", "ok", "redis") also appears
where nothing leaked ("redis 7.0.15", "set up"). So the same run is made twice on the same
servers, once with the real secrets and once with stand-ins of the same length, and each secret
must stand as a word as often in the first run's outputs as in the second's: a leak adds one.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from helpers.health import SEED_PATH
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from conftest import Outcome, clean_env, run_suite
from redis_preflight.ephemeral.local_server import LocalRedis


@dataclass(frozen=True)
class Secrets:
    """Every secret of one run: three Redis passwords, a wrong one, and the health URL's."""

    two: str  # requirepass of server a
    five: str  # the ACL user app's password on server b
    forty: str  # requirepass of server c
    wrong: str  # given for app on server b: refused
    health_password: str
    health_token: str

    def all(self) -> tuple[str, ...]:
        return (self.two, self.five, self.forty, self.wrong, self.health_password, self.health_token)


REAL = Secrets("mm", "redis", "commandsredisserveroktokenpasswordalive1", "ok", "up", "alive")
STAND_IN = Secrets("Qx", "QxQxQ", "Q" * 40, "Qj", "Qz", "Qzzzz")
HEALTH_USER = "probe"
# Budgets no loaded machine misses: both runs must fail the same checks, with the same words.
STEADY = ("--latency-p50-ms", "60000", "--latency-p99-ms", "60000", "--health-budget-ms", "60000")


@pytest.fixture(scope="module")
def servers(redis_factory: Callable[..., LocalRedis]) -> dict[str, LocalRedis]:
    return {"a": redis_factory(), "b": redis_factory(), "c": redis_factory()}


def set_passwords(servers: dict[str, LocalRedis], secrets: Secrets) -> None:
    for name, password in (("a", secrets.two), ("c", secrets.forty)):
        with redis.Redis(port=servers[name].port, password=_current.get(name)) as admin:
            admin.config_set("requirepass", password)
        _current[name] = password
    with redis.Redis(port=servers["b"].port) as admin:
        admin.acl_setuser("app", enabled=True, reset_passwords=True, passwords=[f"+{secrets.five}"])
        admin.execute_command("ACL", "SETUSER", "app", "~*", "&*", "+@all")


_current: dict[str, str] = {}


def echo(request: Request) -> Response:
    """A health endpoint that echoes its request (headers, query) beside the document."""
    document = {
        "status": "healthy",
        "version": "2.0.0",
        "services": {"redis": True},
        "request": {"path": request.full_path, "headers": dict(request.headers)},
    }
    return Response(json.dumps(document), content_type="application/json")


def run_with(
    secrets: Secrets, servers: dict[str, LocalRedis], app: HTTPServer, base: Path
) -> tuple[Outcome, Path]:
    """One run with every way in: --redis-url, --targets-file and --env-file (kept outside the
    working directory, which is searched whole), -v -l --tb=long and --debug."""
    set_passwords(servers, secrets)
    work, given = base / "work", base / "given"
    work.mkdir(parents=True)
    given.mkdir()
    health = app.url_for(SEED_PATH).replace("http://", f"http://{HEALTH_USER}:{secrets.health_password}@")
    (given / "app.env").write_text(f"HEALTH_URL={health}?token={secrets.health_token}\n")
    (given / "targets.txt").write_text(
        f"redis://:{secrets.forty}@127.0.0.1:{servers['c'].port}/0\n"
        f"redis://app:{secrets.wrong}@127.0.0.1:{servers['b'].port}/0\n"
    )
    outcome = run_suite(
        work / "reports",
        "--redis-url",
        f"redis://:{secrets.two}@127.0.0.1:{servers['a'].port}/0",
        "--redis-url",
        f"redis://app:{secrets.five}@127.0.0.1:{servers['b'].port}/0",
        "--targets-file",
        str(given / "targets.txt"),
        "--env-file",
        str(given / "app.env"),
        *("--connect-timeout", "2", "--socket-timeout", "2", "-v", "-l", "--tb=long", "--debug"),
        *STEADY,
        cwd=work,
        env=clean_env(),
    )
    return outcome, work


def outputs(outcome: Outcome, work: Path) -> dict[str, str]:
    """The terminal and every file under the working directory (reports, pytestdebug.log, ...)."""
    files = {str(p.relative_to(work)): p.read_text(errors="replace") for p in work.rglob("*") if p.is_file()}
    return {"terminal": outcome.output, **files}


def words(text: str, secret: str) -> int:
    """How often `secret` stands as a word of its own (`:mm@`, `'mm'`, `=mm&`), the shape of a
    leak; inside a word ("commands", "stroke") it is another word, and pictures vary run to run."""
    return len(re.findall(rf"(?<![A-Za-z0-9]){re.escape(secret)}(?![A-Za-z0-9])", text))


def test_no_secret_in_any_output(servers, httpserver_ipv4, tmp_path):
    httpserver_ipv4.expect_request(SEED_PATH).respond_with_handler(echo)
    real, real_work = run_with(REAL, servers, httpserver_ipv4, tmp_path / "real")
    stand_in, stand_in_work = run_with(STAND_IN, servers, httpserver_ipv4, tmp_path / "stand-in")
    assert real.returncode == stand_in.returncode == 1, real.output
    seen, expected = outputs(real, real_work), outputs(stand_in, stand_in_work)
    assert set(seen) == set(expected) >= {"terminal", "pytestdebug.log", "reports/report.html"}
    basic = base64.b64encode(f"{HEALTH_USER}:{REAL.health_password}".encode()).decode()
    for name, text in seen.items():
        assert REAL.forty not in text, name
        assert basic not in text, name
        for secret in REAL.all():
            assert words(text, secret) == words(expected[name], secret), f"{secret!r} leaked in {name}"
    # The run did what it must for the search to mean something: the echo came back, the
    # short passwords were noticed, the wrong one refused.
    assert "Basic ***" in seen["reports/report.html"]
    checks = real.summary["checks"]
    short = [c["outcome"] for c in checks if "::test_password_length[" in c["id"]]
    assert sorted(short) == ["advisory", "advisory", "advisory", "passed"]  # only the 40 characters pass
    assert any(c["message"].startswith("WRONGPASS") for c in checks)
