"""--wait: a server that is not ready yet is waited for; one that never comes up fails, saying so."""

from __future__ import annotations

import json
import threading
import time

from helpers import faults as fault_servers
from helpers.health import HEALTHY, SEED_PATH
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from conftest import REDIS_6
from redis_preflight.ephemeral.local_server import free_port

# Latency is left out: its budgets judge how busy this machine is, not the wait.
WAIT = ("--wait", "15", "--skip", "latency")
FAST = ("--connect-timeout", "1", "--socket-timeout", "1")
# Start-up and reports of a run on a busy machine, besides the wait: loose on purpose.
RUN_S = 40


def test_a_server_started_3_s_after_the_verifier_passes(run_preflight, redis_factory):
    port = free_port()
    late = threading.Timer(3.0, lambda: redis_factory(port=port))
    late.start()
    try:
        outcome = run_preflight("--redis-url", f"redis://127.0.0.1:{port}/0", *WAIT)
    finally:
        late.join()
    assert outcome.returncode == 0, outcome.output
    assert outcome.summary["verdict"] == "pass"
    assert outcome.check("test_tcp_connect")["outcome"] == "passed"
    assert "redis-preflight --wait: ready after " in outcome.output


def test_a_server_loading_its_dataset_for_2_s_passes(run_preflight, tmp_path):
    server = fault_servers.loading_redis(tmp_path / "loading", seconds=2)
    try:
        outcome = run_preflight("--redis-url", server.url, *WAIT)
    finally:
        server.stop()
    assert outcome.returncode == 0, outcome.output
    assert outcome.check("test_ping")["outcome"] == "passed"
    assert outcome.summary["verdict"] == "pass"


def test_a_loading_server_fails_without_wait(run_preflight, tmp_path):
    server = fault_servers.loading_redis(tmp_path / "loading", seconds=20)
    try:
        outcome = run_preflight("--redis-url", server.url, "--skip", "latency")
    finally:
        server.stop()
    assert outcome.returncode == 1, outcome.output
    # Redis 6 answers only every 2 MB of its load: a PING between two answers times out.
    seen = ("LOADING at 127.0.0.1:", "read timeout at 127.0.0.1:") if REDIS_6 else "LOADING at 127.0.0.1:"
    assert outcome.check("test_ping")["message"].startswith(seen)


def test_a_server_that_never_comes_up_fails_within_the_wait_plus_one_timeout(run_preflight):
    port = free_port()
    started = time.monotonic()
    outcome = run_preflight("--redis-url", f"redis://127.0.0.1:{port}/0", "--wait", "3", *FAST)
    elapsed = time.monotonic() - started
    assert outcome.returncode == 1, outcome.output
    message = outcome.check("test_tcp_connect")["message"]
    assert message.startswith(f"connection refused at 127.0.0.1:{port}: "), message
    assert message.endswith(
        f"(--wait spent 3 s waiting for 127.0.0.1:{port}: it to accept connections (connection refused))"
    ), message
    assert (
        f"redis-preflight --wait: not ready: --wait spent 3 s waiting for 127.0.0.1:{port}" in outcome.output
    )
    assert elapsed < 3 + 1 + RUN_S, f"{elapsed:.1f} s"


def test_a_silent_port_costs_the_wait_plus_one_connect_timeout(run_preflight):
    with fault_servers.blackhole() as port:
        started = time.monotonic()
        outcome = run_preflight("--redis-url", f"redis://127.0.0.1:{port}/0", "--wait", "2", *FAST)
        elapsed = time.monotonic() - started
    message = outcome.check("test_tcp_connect")["message"]
    assert message.startswith("connect timeout at 127.0.0.1:"), message
    spent = float(message.split("--wait spent ")[1].split(" s ")[0])
    assert 2 <= spent <= 2 + 1 + 0.5, message  # the wait plus one connect timeout
    assert elapsed < 2 + 1 + RUN_S, f"{elapsed:.1f} s"


def test_a_fault_no_wait_fixes_ends_the_wait_at_once(run_preflight, password_redis):
    url = password_redis.url.replace("redis://", "redis://:wrong@")
    started = time.monotonic()
    outcome = run_preflight("--redis-url", url, "--wait", "60", *FAST)
    elapsed = time.monotonic() - started
    assert outcome.check("test_authenticated")["message"].startswith("WRONGPASS at 127.0.0.1:")
    assert "--wait" not in outcome.check("test_authenticated")["message"]
    assert elapsed < RUN_S, f"{elapsed:.1f} s"  # not the 60 s of the wait


def test_a_health_endpoint_answering_503_for_2_s_is_waited_for(run_preflight, plain_redis, httpserver_ipv4):
    ready_at = time.monotonic() + 2

    def health(request: Request) -> Response:
        if time.monotonic() < ready_at:
            return Response("starting", status=503)
        return Response(json.dumps(HEALTHY), content_type="application/json")

    app: HTTPServer = httpserver_ipv4
    app.expect_request(SEED_PATH).respond_with_handler(health)
    outcome = run_preflight("--redis-url", plain_redis.url, "--health-url", app.url_for(SEED_PATH), *WAIT)
    assert outcome.returncode == 0, outcome.output
    assert outcome.check("test_health_endpoint_answers")["outcome"] == "passed"


def test_a_health_endpoint_that_stays_503_names_the_wait(run_preflight, plain_redis, httpserver_ipv4):
    app: HTTPServer = httpserver_ipv4
    app.expect_request(SEED_PATH).respond_with_data("starting", status=503)
    url = app.url_for(SEED_PATH)
    outcome = run_preflight("--redis-url", plain_redis.url, "--health-url", url, "--wait", "2")
    assert outcome.returncode == 1, outcome.output
    message = outcome.check("test_health_endpoint_answers")["message"]
    assert message.endswith(f"(--wait spent 2 s waiting for {url}: the application to answer (HTTP 503))")


def test_under_xdist_each_worker_reports_the_wait_the_controller_spent(run_preflight, plain_redis):
    """-n 2 over a fleet: the controller waits once; the workers report what it waited for."""
    port = free_port()
    urls = ("--redis-url", plain_redis.url, "--redis-url", f"redis://127.0.0.1:{port}/0")
    outcome = run_preflight(*urls, "--wait", "2", "-n", "2", "--skip", "latency", *FAST)
    assert outcome.returncode == 1, outcome.output
    refused = [
        c for c in outcome.summary["checks"] if c["id"].endswith(f"test_tcp_connect[127.0.0.1:{port}]")
    ]
    assert len(refused) == 1, [c["id"] for c in outcome.summary["checks"]][:5]
    message = refused[0]["message"]
    assert message.endswith(
        f"(--wait spent 2 s waiting for 127.0.0.1:{port}: it to accept connections (connection refused))"
    ), message
    assert outcome.output.count("redis-preflight --wait: not ready") == 1, outcome.output
