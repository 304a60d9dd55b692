"""The connection area end to end: the real suite against real servers, through the console script."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from urllib.parse import quote

import pytest

from conftest import PASSWORD, server_line

pytestmark = pytest.mark.usefixtures("plain_redis")


def test_healthy_server_passes(run_preflight, plain_redis):
    outcome = run_preflight("--redis-url", plain_redis.url)
    assert outcome.returncode == 0, outcome.output
    summary = outcome.summary
    assert summary["verdict"] == "pass"
    assert summary["profile"] == "local"
    assert summary["target"] == f"redis://127.0.0.1:{plain_redis.port}/0"
    assert outcome.check("test_ping")["outcome"] == "passed"
    assert outcome.check("test_ping")["message"].startswith("PONG in ")
    assert outcome.check("test_server_identity")["message"].startswith("redis {}.{}.".format(*server_line()))
    assert outcome.check("test_write_round_trip")["outcome"] == "not_applicable"
    assert {c["area"] for c in summary["checks"]} >= {"connection"}


def test_password_right(run_preflight, password_redis):
    url = f"redis://:{quote(PASSWORD, safe='')}@127.0.0.1:{password_redis.port}/0"
    outcome = run_preflight("--redis-url", url)
    assert outcome.returncode == 0, outcome.output
    assert outcome.summary["target"] == f"redis://:***@127.0.0.1:{password_redis.port}/0"


def test_refused_port_fails_fast_and_skips_the_rest(run_preflight):
    from redis_preflight.ephemeral.local_server import free_port

    outcome = run_preflight("--redis-url", f"redis://127.0.0.1:{free_port()}/0")
    assert outcome.returncode == 1
    tcp = outcome.check("test_tcp_connect")
    assert tcp["outcome"] == "failed"
    assert tcp["message"].startswith("connection refused at 127.0.0.1:")
    identity = outcome.check("test_server_identity")
    assert identity["outcome"] == "unverified"
    assert identity["message"].startswith("target unreachable: connection refused")


def test_db_out_of_range(run_preflight, plain_redis):
    outcome = run_preflight("--redis-url", f"redis://127.0.0.1:{plain_redis.port}/99")
    assert outcome.returncode == 1
    assert outcome.check("test_db_selectable")["message"].startswith("DB index is out of range")
    assert outcome.check("test_ping")["outcome"] == "unverified"


@pytest.fixture
def http_port() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_http_server_is_not_redis(run_preflight, http_port):
    outcome = run_preflight("--redis-url", f"redis://127.0.0.1:{http_port}/0")
    assert outcome.returncode == 1
    assert outcome.check("test_ping")["message"].startswith("not a Redis server at")


def test_allow_write_round_trip_leaves_nothing(run_preflight, plain_redis):
    import redis

    outcome = run_preflight("--redis-url", plain_redis.url, "--allow-write")
    assert outcome.returncode == 0, outcome.output
    assert outcome.check("test_write_round_trip")["message"].startswith("SET/GET/DEL preflight:probe:")
    client = redis.Redis(port=plain_redis.port)
    assert list(client.scan_iter("preflight:probe:*")) == []


def test_password_appears_in_no_output(run_preflight, password_redis):
    url = f"redis://:{quote(PASSWORD, safe='')}@127.0.0.1:{password_redis.port}/0"
    outcome = run_preflight("--redis-url", url, "-v", "-l")
    from redis_preflight.ephemeral.local_server import free_port

    bad = run_preflight("--redis-url", url.replace(str(password_redis.port), str(free_port())), "-v")
    for run in (outcome, bad):
        text = run.outputs()
        assert PASSWORD not in text
        assert quote(PASSWORD, safe="") not in text
    assert "redis://:***@127.0.0.1" in outcome.outputs()


def test_no_target_is_a_usage_error(run_preflight):
    outcome = run_preflight()
    assert outcome.returncode == 4
    assert "no Redis target: give --redis-url" in outcome.output
    assert outcome.summary["verdict"] == "error"


def test_malformed_url_names_the_bad_part(run_preflight):
    outcome = run_preflight("--redis-url", "redis://127.0.0.1:70000/0")
    assert outcome.returncode == 4
    assert "bad port" in outcome.output
    assert "Traceback" not in outcome.output


def test_env_file_supplies_the_url(run_preflight, plain_redis, tmp_path):
    env_file = tmp_path / "backend.env"
    env_file.write_text(f"REDIS_URL={plain_redis.url}\nDATABASE_URL=postgres://x\n")
    outcome = run_preflight("--env-file", str(env_file))
    assert outcome.returncode == 0, outcome.output
    assert outcome.summary["target"] == plain_redis.url


def test_ephemeral_binary_provider(run_preflight):
    outcome = run_preflight("--redis-url", "ephemeral")
    assert outcome.returncode == 0, outcome.output
    identity = outcome.check("test_server_identity")["message"]
    assert "ephemeral via " in identity
    assert "testcontainers" in identity or "redis-server binary" in identity


def test_ephemeral_testcontainers_provider():
    from redis_preflight.ephemeral import _start_container, docker_answers

    if not docker_answers():
        pytest.skip("no Docker daemon answers: the testcontainers provider cannot start a container")
    ephemeral = _start_container()
    try:
        assert ephemeral.provider.startswith("testcontainers")
        assert ephemeral.url.startswith("redis://")
    finally:
        ephemeral.stop()
