"""Diagnoses that stay true on real deployments (issue 14): each against a real server."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import redis
from helpers.health import HEALTHY, SEED_PATH
from helpers.provider_proxy import ProviderProxy
from helpers.providers import ENTERPRISE_REPLIES
from helpers.server import failing_save

from conftest import PASSWORD, ROOT, Outcome, clean_env
from redis_preflight.ephemeral.local_server import free_port


def test_env_file_dev_null_is_an_empty_env_file(run_preflight, plain_redis):
    outcome = run_preflight("--redis-url", plain_redis.url, "--env-file", "/dev/null", "--only", "connection")
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
    # The output redactor masks every URL's userinfo, the placeholder PASSWORD included.
    assert f"(add unix://:***@{path}?db=0 or unix://USER:***@...)" in auth["message"]
    assert "redis://:" not in auth["message"]


def test_key_families_without_colons_are_named(run_preflight, redis_factory):
    server = redis_factory()
    client = redis.Redis(port=server.port)
    for n in range(5):
        client.set(f"celery-task-meta-{n}f0e4a2c-1b7d-4c3e-9a55-{n:012d}", "{}")
        client.set(f"session.a{n}b{n}c", "x")
    client.set("counter", 1)
    outcome = run_preflight("--redis-url", server.url, "--only", "keys")
    unmatched = outcome.check("test_unmatched_keys")
    assert unmatched["outcome"] == "advisory", outcome.output
    assert "celery-task-meta-* 5," in unmatched["message"]
    assert "session.* 5," in unmatched["message"]
    assert "(no ':' in the name)" not in unmatched["message"]


def test_failed_bgsave_with_aof_names_what_is_at_risk(run_preflight, redis_factory):
    server = failing_save(redis_factory, "appendonly yes", "stop-writes-on-bgsave-error no")
    outcome = run_preflight("--redis-url", server.url, "--profile", "remote", "--only", "server")
    save = outcome.check("test_last_save_succeeded")
    assert save["outcome"] == "advisory"
    assert save["message"].startswith(
        "rdb_last_bgsave_status:err: the last RDB snapshot failed; the append-only file still keeps "
        "every write, but the RDB backups are stale and a replica's full sync"
    )
    assert "a restart would lose" not in save["message"]


def test_misconf_is_one_blocking_finding_and_reads_still_run(run_preflight, redis_factory):
    server = failing_save(redis_factory, "appendonly yes")
    outcome = run_preflight("--redis-url", server.url, "--profile", "production")
    about_the_save = [
        c["id"].split("::")[-1]
        for c in outcome.summary["checks"]
        if c["outcome"] == "failed" and c["severity"] == "blocking" and "save" in c["message"].lower()
    ]
    assert about_the_save == ["test_ping"], outcome.output
    ping = outcome.check("test_ping")
    assert ping["message"] == (
        f"MISCONF at 127.0.0.1:{server.port}: the server refuses every write (and PING) because the last "
        "RDB snapshot (BGSAVE) failed; reads still answer. Check disk space and that 'dir' is writable "
        "(the server log says why), then BGSAVE"
    )
    save = outcome.check("test_last_save_succeeded")
    assert (save["outcome"], save["severity"]) == ("advisory", "advisory")
    assert "refuses writes until one succeeds (see test_ping)" in save["message"]
    for name in ("test_server_identity", "test_round_trip_latency", "test_census", "test_memory_headroom"):
        assert outcome.check(name)["outcome"] in ("passed", "failed", "advisory"), (name, outcome.check(name))
    assert "target unreachable" not in outcome.output


def test_cluster_renamed_away_on_a_cluster_node_is_told_by_info(run_preflight, redis_factory):
    port = free_port()
    server = redis_factory(
        "cluster-enabled yes", f"cluster-port {free_port()}", 'rename-command CLUSTER ""', port=port
    )
    outcome = run_preflight("--redis-url", server.url, "--only", "cluster")
    state = outcome.check("test_cluster_state_ok")
    assert state["outcome"] != "passed"
    # `in`, not startswith: the outcome helpers' class name may lead the reason (issue 12 words it).
    assert (
        "a cluster node (INFO cluster_enabled:1), but its topology is hidden: unknown command at"
        in (state["message"])
    ), state
    assert "cannot tell whether" not in outcome.output


def test_cluster_renamed_away_on_a_standalone_server_is_not_a_cluster(run_preflight, redis_factory):
    server = redis_factory('rename-command CLUSTER ""')
    outcome = run_preflight("--redis-url", server.url, "--only", "cluster")
    assert outcome.returncode == 0, outcome.output
    state = outcome.check("test_cluster_state_ok")
    assert state["message"].endswith(
        "not a Redis Cluster (INFO cluster_enabled:0; CLUSTER INFO refused: unknown command): "
        "the cluster checks apply to cluster nodes"
    )


def test_redis_enterprise_reply_shapes_are_understood(run_preflight, redis_factory):
    server = redis_factory("user default off", "user ldap-alice on >s3cret ~* &* +@all")
    proxy = ProviderProxy(server.port, replaced=ENTERPRISE_REPLIES).start()
    try:
        outcome = run_preflight("--redis-url", f"redis://ldap-alice:s3cret@127.0.0.1:{proxy.port}/0")
    finally:
        proxy.stop()
    assert outcome.check("test_authenticated")["outcome"] == "passed", outcome.output
    errors = [c["id"] for c in outcome.summary["checks"] if c["outcome"] == "error"]
    assert not errors, outcome.output
    assert "TypeError" not in outcome.output
    for name in ("test_dangerous_commands_disabled", "test_app_commands_allowed"):
        check = outcome.check(name)
        assert check["outcome"] != "passed"
        assert check["message"] == (
            "ACL DRYRUN does not know user 'ldap-alice', though it logged in: an externally managed user "
            "(LDAP on Redis Enterprise or Redis Cloud) whose rights ACL rules do not hold; check its "
            "role's Redis ACL in the provider's console"
        )
    slow = outcome.check("test_slow_commands")
    assert "KEYS * 25.0 ms" in slow["message"], slow
    assert outcome.check("test_server_snapshot")["outcome"] == "passed", outcome.check("test_server_snapshot")


def test_app_healthy_from_a_cache_while_redis_is_down(run_preflight, httpserver_ipv4, tmp_path):
    httpserver_ipv4.expect_request(SEED_PATH).respond_with_json(HEALTHY, headers={"Age": "42"})
    down = f"redis://127.0.0.1:{free_port()}/0"
    (tmp_path / "backend").mkdir()
    env_file = tmp_path / "backend" / ".env"
    env_file.write_text(f"REDIS_URL={down}\n")
    health_url = httpserver_ipv4.url_for(SEED_PATH)
    outcome = run_preflight("--env-file", "backend/.env", "--health-url", health_url, "--only", "health")
    cross = outcome.check("test_health_agrees_with_direct_probe")
    assert cross["outcome"] == "failed"
    assert cross["message"] == (
        f"the application reports redis: true but the verifier cannot reach {down} (connection refused); "
        "likely causes: 1) a cached or stale health answer: likely, the answer came from a cache (Age: 42); "
        "2) a health check that does not really PING Redis: not ruled out, make it PING; 3) a different "
        f"Redis: ruled out if the app reads {env_file} too"
    )


def pytest_from_the_repository_root(*args: str) -> Outcome:
    """`pytest ARGS` as a person types it at the repository root (the design's own way to run it)."""
    env = clean_env()
    env.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
    env.pop("PYTEST_ADDOPTS", None)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    report_dir = Path(args[args.index("--report-dir") + 1])
    return Outcome(done.returncode, done.stdout + done.stderr, report_dir)


def test_report_dir_that_exists_is_not_taken_for_a_test_path(plain_redis, tmp_path):
    reports = tmp_path / "reports"
    reports.mkdir()
    args = ("--redis-url", plain_redis.url, "--report-dir", str(reports), "--only", "connection")
    for _ in range(2):  # the second run writes into the directory the first one made
        outcome = pytest_from_the_repository_root(*args)
        assert outcome.returncode == 0, outcome.output
        assert "unrecognized arguments" not in outcome.output
        assert f"rootdir: {ROOT}" in outcome.output
        assert outcome.check("test_ping")["outcome"] == "passed"
        assert {p.name for p in reports.iterdir()} >= {"report.html", "junit.xml", "summary.json"}


@pytest.mark.parametrize("plugin", ["html", "timeout", "metadata"])
def test_optional_plugin_disabled_leaves_its_part_out(plain_redis, tmp_path, plugin):
    reports = tmp_path / "reports"
    outcome = pytest_from_the_repository_root(
        "--redis-url", plain_redis.url, "--report-dir", str(reports), "-p", f"no:{plugin}", "--only", "keys"
    )
    assert outcome.returncode == 0, outcome.output
    assert "INTERNALERROR" not in outcome.output
    assert outcome.summary["verdict"] == "pass"
    assert outcome.check("test_census")["outcome"] == "passed"
    assert {p.name for p in reports.iterdir()} >= {"report.html", "junit.xml", "summary.json"}
    notice = "redis-preflight: -p no:timeout: no backstop timeout per check"
    assert outcome.output.count(notice) == (1 if plugin == "timeout" else 0)


def test_console_script_honours_no_timeout(run_preflight, plain_redis):
    outcome = run_preflight("--redis-url", plain_redis.url, "-p", "no:timeout", "--only", "keys")
    assert outcome.returncode == 0, outcome.output
    assert outcome.output.count("redis-preflight: -p no:timeout: no backstop timeout per check") == 1


def test_n2_on_one_target_stays_in_one_process_and_says_so(run_preflight, plain_redis):
    outcome = run_preflight("--redis-url", plain_redis.url, "-n", "2", "--only", "connection")
    assert outcome.returncode == 0, outcome.output
    assert outcome.output.count("redis-preflight: -n ignored: one target runs in one process") == 1
    assert "workers" not in outcome.output


def test_n2_on_a_fleet_gives_each_worker_whole_targets(run_preflight, plain_redis, redis_factory):
    other = redis_factory()
    urls = (plain_redis.url, other.url)
    outcome = run_preflight(
        *(a for url in urls for a in ("--redis-url", url)), "-n", "2", "-v", "--only", "connection"
    )
    assert outcome.returncode == 0, outcome.output
    assert "created: 2/2 workers" in outcome.output
    ran_on: dict[str, set[str]] = {}
    for worker, port in re.findall(r"\[(gw\d)\] \[[ \d%]+\] \w+ \S*\[127\.0\.0\.1:(\d+)", outcome.output):
        ran_on.setdefault(port, set()).add(worker)
    assert sorted(ran_on) == sorted(str(p) for p in (plain_redis.port, other.port)), outcome.output
    assert all(len(workers) == 1 for workers in ran_on.values()), ran_on
