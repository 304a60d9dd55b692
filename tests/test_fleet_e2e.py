"""Fleets end to end: several targets in one run, serial and with pytest-xdist, through the console script."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from helpers.health import HEALTHY, SEED_PATH

from conftest import PASSWORD, clean_env
from redis_preflight.config.target import parse_target
from redis_preflight.ephemeral.local_server import free_port


@pytest.fixture
def fleet(plain_redis, password_redis) -> list[str]:
    """Three targets, the last one broken (nothing listens there)."""
    secret = quote(PASSWORD, safe="")
    return [
        plain_redis.url,
        f"redis://:{secret}@127.0.0.1:{password_redis.port}/0",
        f"redis://:{secret}@127.0.0.1:{free_port()}/0",
    ]


TIMED = ("test_setup_time", "test_latency_tail", "test_round_trip_latency", "test_slow_commands")


def verdict_of(target: dict) -> dict:
    """A target's entry in summary.json without its provider and commands table."""
    return {key: target[key] for key in ("target", "profile", "verdict")}


def results(outcome) -> list[tuple[str, str, str]]:
    """Each check's id, target and outcome; a timing's outcome is left out, as load moves it."""
    return [
        (c["id"], c["target"], "timed" if c["id"].split("::")[-1].startswith(TIMED) else c["outcome"])
        for c in outcome.summary["checks"]
    ]


def test_fleet_with_a_broken_target_same_reports_with_and_without_xdist(run_preflight, fleet):
    urls = [arg for url in fleet for arg in ("--redis-url", url)]
    serial = run_preflight(*urls, "--socket-timeout", "1")
    parallel = run_preflight(*urls, "--socket-timeout", "1", "-n", "2")
    for outcome in (serial, parallel):
        assert outcome.returncode == 1, outcome.output
        summary = outcome.summary
        assert summary["verdict"] == "fail"
        shown = [parse_target(url).redacted for url in fleet]
        assert [verdict_of(t) for t in summary["targets"]] == [
            {"target": target, "profile": "local", "verdict": verdict}
            for target, verdict in zip(shown, ("pass", "pass", "fail"), strict=True)
        ]
        broken = fleet[2].split("@")[-1].removesuffix("/0")
        tcp = next(c for c in summary["checks"] if c["id"].endswith(f"test_tcp_connect[{broken}]"))
        assert (tcp["outcome"], tcp["severity"]) == ("failed", "blocking")
        assert tcp["message"].startswith(f"connection refused at {broken}")
        assert PASSWORD not in outcome.outputs()
        assert quote(PASSWORD, safe="") not in outcome.outputs()
    assert results(parallel) == results(serial)
    ids = [check_id for check_id, _, _ in results(serial)]
    assert len(ids) == len(set(ids))
    assert all(check_id.endswith("]") and "***" not in check_id for check_id in ids)
    assert f"FAIL redis://:***@{fleet[2].split('@')[-1]}" in serial.output


def test_single_target_keeps_its_ids_and_gets_a_target_per_check(run_preflight, plain_redis):
    outcome = run_preflight("--redis-url", plain_redis.url)
    assert outcome.returncode == 0, outcome.output
    assert outcome.check("test_ping")["target"] == plain_redis.url
    assert [verdict_of(t) for t in outcome.summary["targets"]] == [
        {"target": plain_redis.url, "profile": "local", "verdict": "pass"}
    ]
    assert outcome.summary["targets"][0]["provider"] is None
    assert outcome.summary["targets"][0]["capabilities"]["CONFIG GET"] == "available"


def test_targets_file_with_comments(run_preflight, plain_redis, password_redis, tmp_path):
    secret = quote(PASSWORD, safe="")
    (tmp_path / "fleet.txt").write_text(
        f"# every environment\n\n{plain_redis.url}   # staging\nredis://:{secret}@127.0.0.1:{password_redis.port}/0\n"
    )
    outcome = run_preflight("--targets-file", "fleet.txt")
    assert outcome.returncode == 0, outcome.output
    assert [t["verdict"] for t in outcome.summary["targets"]] == ["pass", "pass"]
    assert f"test_ping[127.0.0.1:{password_redis.port}]" in {
        c["id"].split("::")[-1] for c in outcome.summary["checks"]
    }


def test_malformed_line_in_targets_file_is_named(run_preflight, plain_redis, tmp_path):
    (tmp_path / "fleet.txt").write_text(f"# fleet\n{plain_redis.url}\nredis://127.0.0.1:70000/0\n")
    outcome = run_preflight("--targets-file", "fleet.txt")
    assert outcome.returncode == 4
    assert "invalid target on line 3 of" in outcome.output
    assert "Traceback" not in outcome.output
    assert outcome.summary["verdict"] == "error"


def test_malformed_repeated_url_is_named(run_preflight, plain_redis):
    outcome = run_preflight("--redis-url", plain_redis.url, "--redis-url", "redis://:pw@127.0.0.1:0/0")
    assert outcome.returncode == 4
    assert "invalid REDIS_URL (URL 2 of 2 from the command line (--redis-url)): bad port 0" in outcome.output


def test_redis_url_environment_may_list_several(run_preflight, plain_redis, password_redis):
    secret = quote(PASSWORD, safe="")
    urls = f"{plain_redis.url} redis://:{secret}@127.0.0.1:{password_redis.port}/0"
    outcome = run_preflight(env=clean_env(REDIS_URL=urls))
    assert outcome.returncode == 0, outcome.output
    assert len(outcome.summary["targets"]) == 2


def test_health_endpoint_goes_with_the_first_target_of_a_fleet(run_preflight, plain_redis, httpserver_ipv4):
    httpserver_ipv4.expect_request(SEED_PATH).respond_with_json(HEALTHY)
    dead = f"redis://127.0.0.1:{free_port()}/0"
    health = httpserver_ipv4.url_for(SEED_PATH)
    outcome = run_preflight("--redis-url", plain_redis.url, "--redis-url", dead, "--health-url", health)
    cross = [c for c in outcome.summary["checks"] if "test_health_agrees_with_direct_probe" in c["id"]]
    assert [(c["target"], c["outcome"]) for c in cross] == [
        (plain_redis.url, "passed"),
        (dead, "not_applicable"),
    ]
    assert cross[1]["message"].startswith("the health endpoint is checked with the fleet's first target")
