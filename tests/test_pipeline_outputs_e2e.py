"""Pipeline summaries: the GitHub job summary and the Prometheus textfile, from summary.json's data."""

from __future__ import annotations

import stat

import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import PASSWORD, clean_env
from redis_preflight.report.prometheus import CHECK_VALUES, UNVERIFIED


def samples(path):
    """{metric name: [(labels, value)]} as prometheus_client's own parser reads the file."""
    parsed = {}
    for family in text_string_to_metric_families(path.read_text()):
        assert family.type == "gauge", family.name
        for sample in family.samples:
            parsed.setdefault(sample.name, []).append((sample.labels, sample.value))
    return parsed


@pytest.fixture
def failing_run(run_preflight, password_redis, tmp_path):
    """A server that requires a password, given none: a blocking finding, and checks it blocks."""
    step_summary = tmp_path / "step-summary.md"
    step_summary.write_text("earlier step's summary\n")
    outcome = run_preflight(
        "--redis-url",
        password_redis.url,
        "--prometheus-file",
        "metrics/preflight.prom",
        env=clean_env(GITHUB_STEP_SUMMARY=str(step_summary)),
    )
    assert outcome.returncode == 1, outcome.output
    return outcome, step_summary, tmp_path / "metrics" / "preflight.prom"


def test_prometheus_file_has_the_verdict_and_one_gauge_per_check(failing_run):
    outcome, _, prom = failing_run
    summary = outcome.summary
    parsed = samples(prom)
    verdicts = {labels["verdict"]: value for labels, value in parsed["redis_preflight_verdict"]}
    assert verdicts["fail"] == 1
    assert sum(verdicts.values()) == 1
    checks = {labels["check"]: (labels, value) for labels, value in parsed["redis_preflight_check"]}
    assert len(checks) == len(summary["checks"]) == len(parsed["redis_preflight_check"])
    for check in summary["checks"]:
        labels, value = checks[check["id"].split("::")[-1]]
        assert labels == {
            "target": summary["target"],
            "area": check["area"],
            "check": check["id"].split("::")[-1],
            "severity": check["severity"],
        }
        assert value == CHECK_VALUES.get(check["outcome"], UNVERIFIED), check
    assert checks["test_authenticated"][1] == 0
    assert parsed["redis_preflight_last_run_timestamp_seconds"][0][1] > 1.7e9
    assert f"report: {prom}" in outcome.output


def test_prometheus_file_is_replaced_whole_and_readable_by_node_exporter(
    failing_run, run_preflight, plain_redis
):
    _, _, prom = failing_run
    run_preflight("--redis-url", plain_redis.url, "--prometheus-file", "metrics/preflight.prom")
    assert [p.name for p in prom.parent.iterdir()] == ["preflight.prom"]  # no temporary file left
    assert stat.S_IMODE(prom.stat().st_mode) == 0o644
    verdicts = {labels["verdict"]: value for labels, value in samples(prom)["redis_preflight_verdict"]}
    assert verdicts["pass"] == 1


def test_no_secret_reaches_the_pipeline_outputs(run_preflight, password_redis, tmp_path):
    step_summary = tmp_path / "step-summary.md"
    url = password_redis.url.replace("redis://", "redis://:wrong-s3cret@")
    run_preflight(
        "--redis-url",
        url,
        "--prometheus-file",
        "p.prom",
        env=clean_env(GITHUB_STEP_SUMMARY=str(step_summary)),
    )
    assert "WRONGPASS" in step_summary.read_text()
    for path in (step_summary, tmp_path / "p.prom"):
        assert "redis://:***@127.0.0.1" in path.read_text()
        assert "wrong-s3cret" not in path.read_text(), path
        assert PASSWORD not in path.read_text(), path


def test_github_step_summary_is_appended_with_verdict_areas_and_findings(failing_run):
    outcome, step_summary, _ = failing_run
    text = step_summary.read_text()
    assert text.startswith("earlier step's summary\n## ❌ redis-preflight: FAIL\n")
    assert f"Target `{outcome.summary['target']}`" in text
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    areas = [row.split("|")[1].strip() for row in rows[1 : 1 + 8]]
    assert areas == ["connection", "auth", "tls", "latency", "keys", "server", "health", "cluster"]
    authenticated = outcome.check("test_authenticated")
    finding = next(row for row in rows if "`test_authenticated`" in row)
    assert finding.startswith("| blocking | failed | auth |")
    assert authenticated["message"].replace("|", "\\|") in finding
    assert "the server requires a password but REDIS_URL has none (add redis://" in finding  # next step


def test_a_usage_error_still_reaches_both(run_preflight, tmp_path):
    step_summary = tmp_path / "step-summary.md"
    env = clean_env(GITHUB_STEP_SUMMARY=str(step_summary))
    outcome = run_preflight("--redis-url", "redis://:pw@h:99999/0", "--prometheus-file", "p.prom", env=env)
    assert outcome.returncode == 4, outcome.output
    assert "redis-preflight: ERROR" in step_summary.read_text()
    verdicts = {
        labels["verdict"]: value for labels, value in samples(tmp_path / "p.prom")["redis_preflight_verdict"]
    }
    assert verdicts["error"] == 1


def test_without_github_or_prometheus_nothing_else_is_written(run_preflight, plain_redis, tmp_path):
    outcome = run_preflight("--redis-url", plain_redis.url)
    assert sorted(p.name for p in tmp_path.iterdir()) == [outcome.report_dir.name]
    assert sorted(p.name for p in outcome.report_dir.iterdir()) == [
        "junit.xml",
        "report.html",
        "summary.json",
    ]
