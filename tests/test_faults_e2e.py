"""Every fault ends in a one-line diagnosis, a complete run and written reports, in bounded time.

Bounds are loose on purpose (the machine is shared); benchmarks/time_to_verdict.py measures them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from contextlib import ExitStack

import pytest
import redis
from helpers import faults
from helpers.tls import make_pki, start_tls_redis

from conftest import clean_env
from redis_preflight.ephemeral.local_server import free_port
from redis_preflight.errors import Fault

TIMEOUT_S = 2.0
# One timeout for the whole run, plus start-up and reports (slow on a busy machine); a timeout
# per check would take over 20 s.
BOUND_S = TIMEOUT_S + 13.0
TIMEOUTS = ("--connect-timeout", str(TIMEOUT_S), "--socket-timeout", str(TIMEOUT_S))


@pytest.fixture(scope="module")
def every_check(plain_redis, tmp_path_factory) -> list[str]:
    """The checks a healthy run reports, in order: a faulty run must report each of them too."""
    report_dir = tmp_path_factory.mktemp("healthy")
    command = [sys.executable, "-m", "redis_preflight.cli", "--report-dir", str(report_dir), "--redis-url"]
    subprocess.run([*command, plain_redis.url], env=clean_env(), capture_output=True, check=False)
    return [check["id"] for check in json.loads((report_dir / "summary.json").read_text())["checks"]]


def run_timed(run_preflight, url: str, *args: str):
    started = time.monotonic()
    outcome = run_preflight("--redis-url", url, *TIMEOUTS, *args)
    return outcome, time.monotonic() - started


def assert_complete(outcome, every_check: list[str], elapsed: float) -> None:
    """Exit 1, every check reported, every report written, within the bound."""
    __tracebackhide__ = True
    assert outcome.returncode == 1, outcome.output
    assert outcome.summary["verdict"] == "fail"
    assert [c["id"] for c in outcome.summary["checks"]] == every_check
    for report in ("report.html", "junit.xml", "summary.json"):
        assert (outcome.report_dir / report).stat().st_size > 0, report
    assert "Traceback" not in outcome.output
    assert elapsed < BOUND_S, f"{elapsed:.1f} s"


def assert_unreachable(outcome, check: str, fault: Fault) -> None:
    """`check` fails with the one-line diagnosis; every check that needs the server skips at once."""
    __tracebackhide__ = True
    failed = outcome.check(check)
    assert (failed["outcome"], failed["severity"]) == ("failed", "blocking"), failed
    assert failed["message"].startswith(f"{fault.value} at 127.0.0.1:"), failed["message"]
    assert "\n" not in failed["message"]
    skipped = [c for c in outcome.summary["checks"] if c["message"].startswith("target unreachable: ")]
    assert len(skipped) >= 4
    assert {c["message"] for c in skipped} == {f"target unreachable: {failed['message']}"}


@pytest.mark.parametrize(
    ("fault_server", "check", "fault"),
    [
        (None, "test_tcp_connect", Fault.REFUSED),
        (faults.blackhole, "test_tcp_connect", Fault.CONNECT_TIMEOUT),
        (faults.tarpit, "test_ping", Fault.READ_TIMEOUT),
        (faults.hang_up_peer, "test_ping", Fault.PLAINTEXT_TO_TLS),
        (faults.http_server, "test_ping", Fault.NOT_REDIS),
    ],
    ids=["refused", "connect-timeout", "tarpit", "hang-up", "http"],
)
def test_peer_faults(run_preflight, every_check, fault_server, check, fault):
    with ExitStack() as stack:
        port = stack.enter_context(fault_server()) if fault_server else free_port()
        outcome, elapsed = run_timed(run_preflight, f"redis://127.0.0.1:{port}/0")
    assert_unreachable(outcome, check, fault)
    assert_complete(outcome, every_check, elapsed)


def test_name_that_does_not_resolve(run_preflight, every_check):
    outcome, elapsed = run_timed(run_preflight, "redis://redis.preflight.invalid:6379/0")
    dns = outcome.check("test_dns_resolves")
    assert dns["outcome"] == "failed"
    assert dns["message"].startswith("name does not resolve at redis.preflight.invalid:6379: ")
    assert outcome.check("test_round_trip_latency")["message"].startswith("target unreachable: name does not")
    assert_complete(outcome, every_check, elapsed)


@pytest.fixture(scope="module")
def tls_port(redis_factory, tmp_path_factory) -> int:
    pki = make_pki(tmp_path_factory.mktemp("tls"))
    return start_tls_redis(redis_factory, pki, pki.issue("server")).tls_port


def test_plaintext_to_a_tls_port(run_preflight, every_check, tls_port):
    outcome, elapsed = run_timed(run_preflight, f"redis://127.0.0.1:{tls_port}/0")
    assert_unreachable(outcome, "test_ping", Fault.PLAINTEXT_TO_TLS)
    assert "use rediss://" in outcome.check("test_ping")["message"]
    assert_complete(outcome, every_check, elapsed)


def test_tls_to_a_plaintext_port(run_preflight, every_check, plain_redis):
    outcome, elapsed = run_timed(run_preflight, f"rediss://127.0.0.1:{plain_redis.port}/0")
    assert_unreachable(outcome, "test_tls_handshake", Fault.TLS_TO_PLAINTEXT)
    assert "use redis:// instead of rediss://" in outcome.check("test_tls_handshake")["message"]
    assert_complete(outcome, every_check, elapsed)


def test_server_loading_its_dataset(run_preflight, every_check, tmp_path):
    server = faults.loading_redis(tmp_path / "loading")
    try:
        assert redis.Redis(port=server.port).info("persistence")["loading"] == 1
        outcome, elapsed = run_timed(run_preflight, server.url)
    finally:
        server.stop()
    assert_unreachable(outcome, "test_ping", Fault.LOADING)
    assert "retry when loading ends" in outcome.check("test_ping")["message"]
    assert_complete(outcome, every_check, elapsed)


def test_server_at_maxclients(run_preflight, every_check, redis_factory):
    server = redis_factory("maxclients 1")
    holder = redis.Redis(port=server.port)
    holder.ping()  # the one client the server allows
    try:
        outcome, elapsed = run_timed(run_preflight, server.url)
    finally:
        holder.close()
    assert_unreachable(outcome, "test_ping", Fault.MAXCLIENTS)
    assert "CLIENT LIST" in outcome.check("test_ping")["message"]
    assert_complete(outcome, every_check, elapsed)


def assert_stopped_answering(outcome, faults: set[Fault]) -> None:
    """One check fails with the diagnosis; every later check needing the server skips naming it."""
    __tracebackhide__ = True
    checks = outcome.summary["checks"]
    broken = [i for i, c in enumerate(checks) if c["outcome"] in ("failed", "error")]
    assert len(broken) == 1, [checks[i] for i in broken]
    first = checks[broken[0]]
    name = first["id"].split("::")[-1]
    fault = next((f for f in faults if first["message"].startswith(f"{f.value} at 127.0.0.1:")), None)
    assert fault is not None, first["message"]
    assert first["severity"] == "blocking"
    assert not [c for c in checks[: broken[0]] if "stopped answering" in c["message"]]
    later = [c for c in checks[broken[0] + 1 :] if c["outcome"] == "unverified"]
    assert later, "no check ran after the fault"
    assert {c["message"] for c in later if "stopped" in c["message"]} == {
        f"server stopped answering at {name} ({fault.value}): see that check"
    }
    assert outcome.check("test_latency_events")["message"].startswith(f"server stopped answering at {name}")


def test_server_paused_mid_run(run_preflight, every_check, redis_factory):
    server = redis_factory()
    control = redis.Redis(port=server.port)
    # Long enough for the socket timeout to strike; it lapses by itself, since a CLIENT UNPAUSE
    # from another client would wait behind the pause like every other command.
    pause_ms = int(3 * TIMEOUT_S * 1000)
    with faults.on_first(server, "INFO", lambda: control.execute_command("CLIENT", "PAUSE", pause_ms)):
        outcome, elapsed = run_timed(run_preflight, server.url)
    assert outcome.check("test_ping")["outcome"] == "passed"  # it answered at first
    assert_stopped_answering(outcome, {Fault.READ_TIMEOUT})
    assert_complete(outcome, every_check, elapsed)


def test_server_killed_mid_run(run_preflight, every_check, redis_factory):
    server = redis_factory()
    with faults.on_first(server, "INFO", server.process.kill):
        outcome, elapsed = run_timed(run_preflight, server.url)
    assert outcome.check("test_ping")["outcome"] == "passed"  # it answered at first
    assert_stopped_answering(outcome, {Fault.CLOSED, Fault.REFUSED})
    assert_complete(outcome, every_check, elapsed)
