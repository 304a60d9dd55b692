"""The verdict never says PASS for what was not verified, and speaks pytest's own words (issue 12)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import redis
from helpers.clients import wait_until
from helpers.keys import seed_defects_a

from conftest import clean_env, run_suite
from redis_preflight.contract.samples import seed
from redis_preflight.verdict.summary import EXIT_INCOMPLETE

FINAL_LINE = "=" * 5  # pytest's closing line is framed in '='


def final_line(output: str) -> str:
    return [line for line in output.splitlines() if line.startswith(FINAL_LINE) and " in " in line][-1]


@pytest.fixture(scope="module")
def defects_redis(redis_factory):
    """A server whose db 1 holds blocking key violations and an advisory one (unmatched keys)."""
    server = redis_factory()
    seed_defects_a(redis.Redis.from_url(f"redis://127.0.0.1:{server.port}/1"))
    return server


def test_advisory_findings_do_not_look_failed(run_preflight, plain_redis):
    outcome = run_preflight("--redis-url", plain_redis.url, "--connect-timeout", "20")
    assert outcome.returncode == 0, outcome.output
    line = final_line(outcome.output)
    assert "failed" not in line
    assert " advisory" in line, line
    assert "not applicable" in line, line
    assert "redis-preflight verdict: PASS" in outcome.output
    junit = ET.fromstring(outcome.files["junit.xml"])
    assert junit.find(".//failure") is None
    advisory = [s for s in junit.iter("skipped") if s.get("type") == "advisory"]
    assert advisory, "advisory findings are <skipped type='advisory'> in junit.xml"
    html = outcome.files["report.html"]
    assert 'class="o-failed"' not in html  # no red row under a green banner
    assert 'value="advisory" checked>' in html  # the Advisory filter box
    assert outcome.check("test_client_settings")["outcome"] == "advisory"


def test_x_stops_at_the_first_blocking_failure_never_an_advisory_one(run_preflight, defects_redis):
    outcome = run_preflight("--redis-url", f"redis://127.0.0.1:{defects_redis.port}/1", "-x")
    assert outcome.returncode == 1, outcome.output
    summary = outcome.summary
    assert summary["verdict"] == "fail"
    failed = [c for c in summary["checks"] if c["outcome"] == "failed"]
    assert len(failed) == 1, failed
    assert failed[0]["area"] == "keys", failed
    unrun = [c for c in summary["checks"] if c["message"].startswith("not run: the run stopped early")]
    assert unrun, "the checks -x left unrun are listed as unverified"
    assert all(c["outcome"] == "unverified" for c in unrun)
    assert len(summary["checks"]) == summary["scope"]["checks"]


def test_collect_only_writes_no_verdict_and_removes_the_last_one(plain_redis, tmp_path):
    report_dir = tmp_path / "shared-reports"
    first = run_suite(report_dir, "--redis-url", plain_redis.url)
    assert first.summary["verdict"] == "pass"
    listing = run_suite(report_dir, "--redis-url", plain_redis.url, "--collect-only")
    assert listing.returncode == 0, listing.output
    assert not any((report_dir / name).exists() for name in ("summary.json", "junit.xml", "report.html"))
    assert "--collect-only gives no verdict" in listing.output


def test_a_narrowed_run_says_what_it_covers(run_preflight, plain_redis):
    ping = run_preflight("--redis-url", plain_redis.url, "-k", "ping")
    scope = ping.summary["scope"]
    deselected = scope.pop("deselected")
    assert scope == {"complete": False, "areas": ["connection"], "checks": 1, "selection": ["-k ping"]}
    assert deselected > 60
    assert f"verdict: PASS for 1 of {deselected + 1} checks (-k ping)" in ping.output
    keys = run_preflight("--redis-url", plain_redis.url, "--only", "keys")
    assert keys.summary["scope"]["areas"] == ["keys"]
    assert "verdict: PASS for keys only" in keys.output
    assert "PASS for keys only" in keys.files["report.html"]


@pytest.fixture(scope="module")
def restricted_redis(redis_factory):
    """Blocking key violations, read by users the census cannot fully serve."""
    server = redis_factory(
        "user default off",
        "user admin on >admin-password-long-enough ~* +@all",
        "user session on >session-password-long-enough ~user_session:* +@all",
        "user noscan on >noscan-password-long-enough ~* +@all -scan",
    )
    seed_defects_a(redis.Redis(port=server.port, username="admin", password="admin-password-long-enough"))
    return server


def restricted_url(server, user: str) -> str:
    return f"redis://{user}:{user}-password-long-enough@127.0.0.1:{server.port}/0"


def test_user_limited_to_one_pattern_never_passes(run_preflight, restricted_redis):
    outcome = run_preflight("--redis-url", restricted_url(restricted_redis, "session"))
    assert outcome.summary["verdict"] in ("fail", "incomplete"), outcome.output
    assert outcome.returncode in (1, EXIT_INCOMPLETE)
    keys = [c for c in outcome.summary["checks"] if c["area"] == "keys" and c["severity"] == "blocking"]
    assert keys
    assert all(c["outcome"] in ("failed", "unverified") for c in keys), keys


def test_user_without_scan_never_passes_and_names_the_grant(run_preflight, restricted_redis):
    outcome = run_preflight("--redis-url", restricted_url(restricted_redis, "noscan"))
    assert outcome.summary["verdict"] in ("fail", "incomplete"), outcome.output
    keys = [u["reason"] for u in outcome.summary["unverified_blocking"] if "test_keys.py" in u["id"]]
    assert keys, "the keys checks are unverified, never passed"
    grant = "may not run SCAN; grant it (ACL SETUSER noscan +scan)"
    assert all(grant in reason for reason in keys), keys


def test_info_renamed_away_is_incomplete_unless_accepted(run_preflight, redis_factory):
    server = redis_factory('rename-command INFO ""')
    outcome = run_preflight("--redis-url", server.url)
    assert outcome.summary["verdict"] == "incomplete", outcome.output
    assert outcome.returncode == EXIT_INCOMPLETE
    replication = outcome.check("test_replication_link")
    assert replication["outcome"] == "unverified"
    assert "INFO" in replication["message"]
    assert "redis-preflight verdict: INCOMPLETE" in outcome.output
    assert "[unverified] server: INFO not available" in outcome.output
    accepted = run_preflight("--redis-url", server.url, "--accept-incomplete")
    assert accepted.returncode == 0
    assert accepted.summary["verdict"] == "incomplete"
    assert "INCOMPLETE (accepted by --accept-incomplete)" in accepted.files["report.html"]


def test_busy_server_never_passes(run_preflight, redis_factory):
    server = redis_factory("busy-reply-threshold 100")
    script = subprocess.Popen(
        ["redis-cli", "-p", str(server.port), "EVAL", "while true do end", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(0.5)
        outcome = run_preflight("--redis-url", server.url, "--socket-timeout", "2")
    finally:
        redis.Redis(port=server.port).script_kill()
        script.wait(timeout=10)
    assert outcome.summary["verdict"] in ("fail", "incomplete"), outcome.output
    assert outcome.returncode in (1, EXIT_INCOMPLETE)


def test_replica_target_fails_naming_the_primary(run_preflight, redis_factory):
    primary = redis_factory()  # its own: a replica would change what other tests see of plain_redis
    replica = redis_factory(f"replicaof 127.0.0.1 {primary.port}")
    client = redis.Redis(port=replica.port)
    wait_until(lambda: client.info("replication")["master_link_status"] == "up", "the replica's link")
    outcome = run_preflight("--redis-url", replica.url)
    assert outcome.returncode == 1, outcome.output
    writes = outcome.check("test_writes_reach_primary")
    assert (writes["outcome"], writes["severity"]) == ("failed", "blocking")
    assert f"read-only replica of 127.0.0.1:{primary.port}" in writes["message"]
    assert f"redis://127.0.0.1:{primary.port}/0" in writes["message"]
    assert "is granted" in outcome.check("test_app_commands_allowed")["message"]
    declared = run_preflight("--redis-url", replica.url, "--read-only-target")
    assert declared.check("test_writes_reach_primary")["outcome"] == "passed"


def _start(report_dir: Path, url: str, *args: str) -> subprocess.Popen[str]:
    command = [
        sys.executable,
        "-m",
        "redis_preflight.cli",
        "--report-dir",
        str(report_dir),
        "--redis-url",
        url,
    ]
    return subprocess.Popen(
        [*command, *args], cwd=report_dir.parent, env=clean_env(), stdout=subprocess.PIPE, text=True
    )


@pytest.fixture(scope="module")
def slow_census_redis(redis_factory):
    """Enough keys that a throttled full census takes tens of seconds: time to interrupt it."""
    server = redis_factory()
    client = redis.Redis(port=server.port)
    seed(client, users=400)
    return server


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupted_run_says_so_and_leaves_no_stale_pass(slow_census_redis, tmp_path, signum):
    report_dir = tmp_path / "reports"
    report_dir.mkdir()
    stale = {"verdict": "pass", "target": "another server"}
    (report_dir / "summary.json").write_text(json.dumps(stale))
    (report_dir / "junit.xml").write_text("<testsuites/>")
    run = _start(report_dir, slow_census_redis.url, "--full-scan", "--max-ops-per-sec", "50")
    wait_until(lambda: not (report_dir / "summary.json").exists(), "the stale summary to go")
    time.sleep(1.5)
    run.send_signal(signum)
    output, _ = run.communicate(timeout=60)
    assert run.returncode == pytest.ExitCode.INTERRUPTED, output
    summary = json.loads((report_dir / "summary.json").read_text())
    assert summary["verdict"] == "interrupted"
    assert summary["ended_early"].startswith(f"interrupted ({signum.name})")
    ran = [c for c in summary["checks"] if not c["message"].startswith("not run:")]
    assert ran, "the checks that did run are in the summary"
    assert any(c["message"].startswith("not run: interrupted") for c in summary["checks"])
    ET.parse(report_dir / "junit.xml")


def test_collection_error_is_an_error_verdict(run_preflight, plain_redis, tmp_path):
    broken = tmp_path / "test_broken_check.py"
    broken.write_text("raise RuntimeError('a broken check module')\n")
    outcome = run_preflight("--redis-url", plain_redis.url, str(broken))
    assert outcome.returncode != 0
    assert outcome.summary["verdict"] == "error"
    assert "collection error" in outcome.summary["error"]


def test_concurrent_runs_into_one_directory_never_tear_a_file(plain_redis, tmp_path):
    report_dir = tmp_path / "reports"
    report_dir.mkdir()
    for _ in range(3):
        runs = [_start(report_dir, plain_redis.url, "--only", "connection") for _ in range(2)]
        for run in runs:
            run.communicate(timeout=60)
        assert json.loads((report_dir / "summary.json").read_text())["verdict"] == "pass"
        ET.parse(report_dir / "junit.xml")
        assert (report_dir / "report.html").read_text().rstrip().endswith("</html>")
    assert not [p for p in os.listdir(report_dir) if p.startswith(".")], "no temporary file left"


def test_terminal_names_checks_by_their_place_in_the_suite(run_preflight, plain_redis):
    outcome = run_preflight("--redis-url", plain_redis.url, "-v")
    assert "checks/test_connection.py::test_ping PASSED" in outcome.output
    assert "site-packages" not in outcome.output
    assert outcome.check("test_ping")["id"] == "checks/test_connection.py::test_ping"
