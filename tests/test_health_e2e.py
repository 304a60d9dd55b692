"""The health area end to end: the real suite, through the console script, against real servers."""

from __future__ import annotations

import pytest
from helpers.health import HEALTHY, SEED_PATH, document, https_app
from helpers.outcomes import FAST
from pytest_httpserver import HTTPServer

from redis_preflight.ephemeral.local_server import free_port

HEALTH_CHECKS = (
    "test_health_endpoint_answers",
    "test_health_content_type",
    "test_health_response_time",
    "test_health_document",
    "test_health_status",
    "test_health_version",
    "test_health_services",
    "test_health_agrees_with_direct_probe",
)


@pytest.fixture
def app(httpserver_ipv4: HTTPServer) -> HTTPServer:
    return httpserver_ipv4


@pytest.fixture
def serve(app):
    """Answer the seed path with `body` (JSON unless a string) and return its URL."""

    def serve(body: object, status: int = 200, content_type: str = "application/json") -> str:
        if isinstance(body, str):
            app.expect_request(SEED_PATH).respond_with_data(body, status=status, content_type=content_type)
        else:
            app.expect_request(SEED_PATH).respond_with_json(body, status=status)
        return app.url_for(SEED_PATH)

    return serve


def health_of(outcome):
    return {name: outcome.check(name) for name in HEALTH_CHECKS}


def test_without_a_health_url_every_health_check_is_skipped_with_the_reason(run_preflight, plain_redis):
    outcome = run_preflight("--redis-url", plain_redis.url)
    assert outcome.returncode == 0, outcome.output
    for name, check in health_of(outcome).items():
        assert check["outcome"] == "not_applicable", name
        assert check["area"] == "health"
        assert check["message"].startswith("no health URL: give --health-url or HEALTH_URL"), name


def test_healthy_application_passes_every_health_check(run_preflight, plain_redis, serve):
    url = serve({**HEALTHY, "uptime_s": 3})
    outcome = run_preflight("--redis-url", plain_redis.url, "--health-url", url, "--expect-version", "2.0.0")
    assert outcome.returncode == 0, outcome.output
    checks = health_of(outcome)
    assert {check["outcome"] for check in checks.values()} == {"passed"}, checks
    assert checks["test_health_endpoint_answers"]["message"].startswith(f"HTTP 200 from {url} in ")
    assert checks["test_health_version"]["message"] == "version '2.0.0' as expected"
    assert checks["test_health_services"]["message"] == "redis: true (required), rabbitmq: false"
    assert checks["test_health_response_time"]["message"].endswith("(budget 500 ms)")
    agreement = checks["test_health_agrees_with_direct_probe"]["message"]
    assert agreement == "the application and the verifier agree: Redis up"
    assert f"health endpoint: {url}" in outcome.output
    assert "health budget 500 ms" in outcome.output


def test_app_says_redis_true_but_the_verifier_cannot_reach_it(run_preflight, serve):
    url = serve(HEALTHY)
    outcome = run_preflight("--redis-url", f"redis://127.0.0.1:{free_port()}/0", "--health-url", url, *FAST)
    assert outcome.returncode == 1
    cross = outcome.check("test_health_agrees_with_direct_probe")
    assert cross["outcome"] == "failed"
    assert cross["severity"] == "blocking"
    assert (
        "the application reports redis: true but the verifier cannot reach redis://127.0.0.1:"
        in (cross["message"])
    )
    assert cross["message"].endswith(
        "3) a different Redis: not ruled out: REDIS_URL came from the command line (--redis-url); "
        "compare the app's (backend/.env)"
    )


def test_verifier_reaches_redis_but_app_says_redis_false(run_preflight, plain_redis, serve):
    url = serve(document(status="degraded", services={"redis": False, "rabbitmq": False}))
    outcome = run_preflight("--redis-url", plain_redis.url, "--health-url", url)
    assert outcome.returncode == 1
    cross = outcome.check("test_health_agrees_with_direct_probe")
    assert cross["outcome"] == "failed"
    assert cross["severity"] == "blocking"
    assert cross["message"].endswith(
        "the application cannot reach Redis: check REDIS_URL in its env file and the network path "
        "from the app host"
    )
    services = outcome.check("test_health_services")
    assert services["outcome"] == "failed"
    assert services["message"].startswith("the application reports redis: false (required)")


def test_degraded_and_slow_are_advisory_and_strict_makes_them_gate(run_preflight, plain_redis, serve):
    url = serve(document(status="degraded"))
    outcome = run_preflight("--redis-url", plain_redis.url, "--health-url", url, "--health-budget-ms", "0.01")
    assert outcome.returncode == 0, outcome.output
    status = outcome.check("test_health_status")
    assert status["outcome"] == "advisory"
    assert status["severity"] == "advisory"
    assert status["message"].startswith("the application reports status 'degraded', expected 'healthy'")
    slow = outcome.check("test_health_response_time")
    assert slow["outcome"] == "advisory"
    assert slow["severity"] == "advisory"
    assert "over the 0.01 ms budget of the local profile" in slow["message"]
    strict = run_preflight("--redis-url", plain_redis.url, "--health-url", url, "--strict")
    assert strict.returncode == 1


def test_other_status_is_blocking(run_preflight, plain_redis, serve):
    url = serve(document(status="unhealthy"))
    outcome = run_preflight("--redis-url", plain_redis.url, "--health-url", url)
    assert outcome.returncode == 1
    status = outcome.check("test_health_status")
    assert status["severity"] == "blocking"
    assert "status 'unhealthy'" in status["message"]


def test_expected_version_not_live_blocks_the_deploy(run_preflight, plain_redis, serve):
    url = serve(HEALTHY)
    outcome = run_preflight("--redis-url", plain_redis.url, "--health-url", url, "--expect-version", "2.1.0")
    assert outcome.returncode == 1
    version = outcome.check("test_health_version")
    assert version["severity"] == "blocking"
    assert version["message"].startswith("the application reports version '2.0.0', expected '2.1.0'")


def test_required_services_are_repeatable(run_preflight, plain_redis, serve):
    url = serve(HEALTHY)
    outcome = run_preflight(
        "--redis-url", plain_redis.url, "--health-url", url, "--require-service", "rabbitmq",
        "--require-service", "celery",
    )  # fmt: skip
    assert outcome.returncode == 1
    services = outcome.check("test_health_services")
    assert services["severity"] == "blocking"
    assert services["message"].startswith(
        "the application reports redis: true (required), rabbitmq: false (required), celery: absent "
        "(required): required rabbitmq, celery not true"
    )


def test_required_services_from_the_environment_are_comma_separated(monkeypatch):
    from redis_preflight.config.settings import load_settings

    monkeypatch.setenv("PREFLIGHT_REQUIRE_SERVICE", "rabbitmq, celery")
    assert load_settings({}, None).required_services == ("redis", "rabbitmq", "celery")
    # The command line wins over the environment, as for every option.
    assert load_settings({"require_service": ["s3"]}, None).required_services == ("redis", "s3")


def test_404_suggests_the_path_and_skips_the_document_checks(run_preflight, plain_redis, app):
    app.expect_request("/health").respond_with_json({"detail": "Not Found"}, status=404)
    outcome = run_preflight("--redis-url", plain_redis.url, "--health-url", app.url_for("/health"))
    assert outcome.returncode == 1
    answers = outcome.check("test_health_endpoint_answers")
    assert answers["message"].startswith("HTTP 404 NOT FOUND at http://127.0.0.1:")
    assert "/api/v1/health/detailed" in answers["message"]
    for name in ("test_health_document", "test_health_status", "test_health_agrees_with_direct_probe"):
        assert outcome.check(name)["outcome"] == "unverified", name
        assert "HTTP 404" in outcome.check(name)["message"]


def test_refused_health_endpoint_fails_once_and_skips_the_rest(run_preflight, plain_redis):
    url = f"http://127.0.0.1:{free_port()}{SEED_PATH}"
    outcome = run_preflight("--redis-url", plain_redis.url, "--health-url", url, *FAST)
    assert outcome.returncode == 1
    assert outcome.check("test_health_endpoint_answers")["message"].startswith(
        "connection refused at http://"
    )
    skipped = [c for c in health_of(outcome).values() if c["outcome"] == "unverified"]
    assert len(skipped) == len(HEALTH_CHECKS) - 1
    assert outcome.check("test_ping")["outcome"] == "passed"


def test_html_error_page_is_diagnosed_and_attached_escaped(run_preflight, plain_redis, serve):
    page = "<html><head><title>502 Bad Gateway</title></head><body><script>alert(1)</script></body></html>"
    url = serve(page, content_type="text/html")
    outcome = run_preflight("--redis-url", plain_redis.url, "--health-url", url)
    assert outcome.returncode == 1
    assert outcome.check("test_health_document")["message"].startswith("an HTML page ('502 Bad Gateway')")
    assert outcome.check("test_health_content_type")["outcome"] == "advisory"
    html = (outcome.report_dir / "report.html").read_text()
    assert "alert(1)" in html
    assert "<script>alert(1)" not in html


def test_https_with_a_private_ca(run_preflight, plain_redis, tmp_path_factory):
    with https_app(tmp_path_factory.mktemp("tls")) as (server, ca_file):
        server.expect_request(SEED_PATH).respond_with_json(HEALTHY)
        url = f"https://127.0.0.1:{server.port}{SEED_PATH}"
        trusted = run_preflight(
            "--redis-url", plain_redis.url, "--health-url", url, "--health-ca-file", str(ca_file)
        )
        untrusted = run_preflight("--redis-url", plain_redis.url, "--health-url", url)
    assert trusted.returncode == 0, trusted.output
    assert untrusted.returncode == 1
    message = untrusted.check("test_health_endpoint_answers")["message"]
    assert message.startswith("TLS verification failed at https://127.0.0.1:")
    assert "--health-ca-file" in message


def test_tokens_and_passwords_in_the_health_url_appear_in_no_output(run_preflight, plain_redis, app):
    app.expect_request(SEED_PATH).respond_with_json({**HEALTHY, "echo": "s3cr3t-t0ken"})
    url = app.url_for(SEED_PATH).replace("http://", "http://monitor:pa55word@") + "?access_token=s3cr3t-t0ken"
    outcome = run_preflight("--redis-url", plain_redis.url, "--health-url", url, "-v")
    assert outcome.returncode == 0, outcome.output
    text = outcome.outputs()
    assert "s3cr3t-t0ken" not in text
    assert "pa55word" not in text
    assert "redacted a secret" not in outcome.output
    assert f"http://monitor:***@127.0.0.1:{app.port}{SEED_PATH}?access_token=***" in text


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--expect-version", "2.0.0"), "--expect-version and --require-service check the application's"),
        (("--health-url", "ftp://127.0.0.1/health"), "invalid HEALTH_URL: unsupported scheme 'ftp'"),
        (
            ("--health-url", "http://127.0.0.1:8000/x", "--health-ca-file", "nope.pem"),
            "invalid health_ca_file",
        ),
    ],
)
def test_bad_health_options_are_usage_errors(run_preflight, plain_redis, args, said):
    outcome = run_preflight("--redis-url", plain_redis.url, *args)
    assert outcome.returncode == 4
    assert said in outcome.output
    assert outcome.summary["verdict"] == "error"
    assert "Traceback" not in outcome.output
