"""Diagnoses that stay true on real deployments (issue 14): each against a real server."""

from __future__ import annotations

import pytest

from conftest import PASSWORD


def test_env_file_dev_null_is_an_empty_env_file(run_preflight, plain_redis):
    outcome = run_preflight("--redis-url", plain_redis.url, "--env-file", "/dev/null")
    assert outcome.returncode == 0, outcome.output
    assert "not found" not in outcome.output


def test_env_file_missing_is_still_a_usage_error(run_preflight, plain_redis):
    outcome = run_preflight("--redis-url", plain_redis.url, "--env-file", "nowhere/.env")
    assert outcome.returncode == 4
    assert "env file nowhere/.env from --env-file not found" in outcome.output


def test_missing_unix_socket_names_the_setting(run_preflight, tmp_path):
    outcome = run_preflight("--redis-url", f"unix://{tmp_path}/absent.sock")
    tcp = outcome.check("test_tcp_connect")
    assert tcp["outcome"] == "failed"
    assert tcp["message"].startswith(f"unix socket not found at {tmp_path}/absent.sock: no such socket file")
    assert "'unixsocket'" in tcp["message"]


@pytest.fixture(scope="module")
def socket_redis(redis_factory, tmp_path_factory):
    path = tmp_path_factory.mktemp("sock") / "redis.sock"
    server = redis_factory(f"unixsocket {path}", f'requirepass "{PASSWORD}"')
    return server, path


def test_noauth_on_a_unix_socket_gives_the_unix_form(run_preflight, socket_redis):
    _, path = socket_redis
    outcome = run_preflight("--redis-url", f"unix://{path}")
    auth = outcome.check("test_authenticated")
    assert auth["outcome"] == "failed"
    assert f"(add unix://:PASSWORD@{path}?db=0 or unix://USER:PASSWORD@...)" in auth["message"]
    assert "redis://:PASSWORD@" not in auth["message"]
