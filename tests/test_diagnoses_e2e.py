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


def test_key_families_without_colons_are_named(run_preflight, redis_factory):
    import redis

    server = redis_factory()
    client = redis.Redis(port=server.port)
    for n in range(5):
        client.set(f"celery-task-meta-{n}f0e4a2c-1b7d-4c3e-9a55-{n:012d}", "{}")
        client.set(f"session.a{n}b{n}c", "x")
    client.set("counter", 1)
    outcome = run_preflight("--redis-url", server.url, "--only", "keys")
    unmatched = outcome.check("test_unmatched_keys")
    assert unmatched["outcome"] == "failed", outcome.output
    assert "celery-task-meta-* 5," in unmatched["message"]
    assert "session.* 5," in unmatched["message"]
    assert "(no ':' in the name)" not in unmatched["message"]
