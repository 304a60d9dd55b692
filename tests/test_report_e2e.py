"""The gate: advisory findings and --strict, the verdict banner, the JUnit properties."""

from __future__ import annotations

import xml.etree.ElementTree as ET


def test_advisory_finding_passes_the_gate_unless_strict(run_preflight, plain_redis):
    # A 20 s connect timeout is above the seed's 10 s ceiling: an advisory finding.
    args = ("--redis-url", plain_redis.url, "--connect-timeout", "20")
    relaxed = run_preflight(*args)
    assert relaxed.returncode == 0, relaxed.output
    settings = relaxed.check("test_client_settings")
    assert (settings["outcome"], settings["severity"]) == ("advisory", "advisory")
    assert settings["message"].startswith("timeouts connect 20 s")
    assert relaxed.summary["verdict"] == "pass"
    assert "[advisory] connection: timeouts connect 20 s" in relaxed.output

    strict = run_preflight(*args, "--strict")
    assert strict.returncode == 1
    assert strict.summary["verdict"] == "fail"
    assert strict.summary["strict"] is True


def test_environment_strict_setting(run_preflight, plain_redis):
    from conftest import clean_env

    env = clean_env(PREFLIGHT_STRICT="true", PREFLIGHT_CONNECT_TIMEOUT="20")
    outcome = run_preflight("--redis-url", plain_redis.url, env=env)
    assert outcome.returncode == 1
    assert outcome.check("test_client_settings")["outcome"] == "advisory"
    assert outcome.summary["verdict"] == "fail"  # --strict: an advisory finding gates


def test_html_banner_and_junit_properties(run_preflight, plain_redis):
    outcome = run_preflight("--redis-url", plain_redis.url, "--connect-timeout", "20")
    html = (outcome.report_dir / "report.html").read_text()
    assert '<div class="preflight-banner pass" id="preflight-verdict">' in html
    assert "redis-preflight: PASS" in html
    assert "[advisory]</span> connection: timeouts connect 20 s" in html
    junit = ET.parse(outcome.report_dir / "junit.xml")
    case = next(c for c in junit.iter("testcase") if c.get("name") == "test_ping")
    properties = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert properties["area"] == "connection"
    assert properties["severity"] == "blocking"
    assert properties["outcome"] == "passed"
    assert properties["message"].startswith("PONG in ")


def test_failing_banner_lists_blocking_findings_first(run_preflight):
    from redis_preflight.ephemeral.local_server import free_port

    outcome = run_preflight("--redis-url", f"redis://127.0.0.1:{free_port()}/0")
    html = (outcome.report_dir / "report.html").read_text()
    assert '<div class="preflight-banner fail"' in html
    assert "[blocking]</span> connection: connection refused at 127.0.0.1:" in html


def test_only_and_skip_select_areas(run_preflight, plain_redis):
    only = run_preflight("--redis-url", plain_redis.url, "--only", "connection")
    assert only.returncode == 0, only.output
    assert {c["area"] for c in only.summary["checks"]} == {"connection"}
    skipped = run_preflight("--redis-url", plain_redis.url, "--skip", "connection,health", "--skip", "server")
    areas = {c["area"] for c in skipped.summary["checks"]}
    assert areas == {"auth", "tls", "latency", "keys", "cluster", "sentinel"}


def test_sentinel_is_an_area_of_its_own(run_preflight, plain_redis):
    outcome = run_preflight("--redis-url", plain_redis.url, "--only", "sentinel")
    assert outcome.returncode == 0, outcome.output
    checks = outcome.summary["checks"]
    assert {c["area"] for c in checks} == {"sentinel"}
    assert {c["id"].split("::")[0].rsplit("/", 1)[-1] for c in checks} == {"test_sentinel.py"}
    assert all(c["message"].startswith("not a Sentinel URL") for c in checks)


def test_unknown_area_is_a_usage_error(run_preflight, plain_redis):
    outcome = run_preflight("--redis-url", plain_redis.url, "--only", "keyz")
    assert outcome.returncode == 4
    assert "invalid only 'keyz' from the command line (--only)" in outcome.output
