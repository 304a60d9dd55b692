"""The health probe against real HTTP(S) servers on loopback: each way an endpoint can answer or fail."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.faults import tarpit
from helpers.health import HEALTHY, SEED_PATH, document, https_app
from pytest_httpserver import HTTPServer

from redis_preflight.config.health_url import parse_health_url
from redis_preflight.config.redact import Redactor
from redis_preflight.ephemeral.local_server import free_port
from redis_preflight.errors import Fault
from redis_preflight.probes.health import HealthExchange, fetch_health


def fetch(url: str, ca_file: Path | None = None, timeout: float = 1.0) -> HealthExchange:
    return fetch_health(parse_health_url(url), ca_file=ca_file, connect_timeout=timeout, read_timeout=timeout)


@pytest.fixture
def app(httpserver_ipv4: HTTPServer) -> HTTPServer:
    return httpserver_ipv4


@pytest.fixture(scope="module")
def tls_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[HTTPServer, Path]]:
    with https_app(tmp_path_factory.mktemp("tls")) as served:
        yield served


def test_healthy_document_is_parsed_and_extra_fields_tolerated(app):
    app.expect_request(SEED_PATH).respond_with_json({**HEALTHY, "uptime_s": 12, "env": "demo"})
    exchange = fetch(app.url_for(SEED_PATH))
    assert exchange.failure is None
    assert exchange.document_failure is None
    assert exchange.document.services == {"redis": True, "rabbitmq": False}
    assert exchange.response.is_json
    assert exchange.response.elapsed_ms > 0


def test_refused(app):
    exchange = fetch(f"http://127.0.0.1:{free_port()}{SEED_PATH}")
    assert exchange.failure.fault is Fault.REFUSED
    assert "is the application running" in exchange.failure.message
    assert exchange.response is None


def test_silent_server_is_a_read_timeout():
    with tarpit() as port:
        exchange = fetch(f"http://127.0.0.1:{port}{SEED_PATH}", timeout=0.3)
    assert exchange.failure.fault is Fault.READ_TIMEOUT
    assert "--socket-timeout" in exchange.failure.message


def test_name_that_does_not_resolve():
    exchange = fetch(f"http://health.invalid{SEED_PATH}")
    assert exchange.failure.fault is Fault.DNS
    assert "HEALTH_URL" in exchange.failure.message


def test_https_with_the_ca_file_passes(tls_app):
    server, ca_file = tls_app
    server.expect_request(SEED_PATH).respond_with_json(HEALTHY)
    exchange = fetch(server.url_for(SEED_PATH).replace("localhost", "127.0.0.1"), ca_file=ca_file)
    assert exchange.failure is None, exchange.failure
    assert exchange.response.url.startswith("https://127.0.0.1:")
    assert exchange.document.status == "healthy"


def test_https_without_the_ca_file_fails_verification(tls_app):
    server, _ = tls_app
    exchange = fetch(f"https://127.0.0.1:{server.port}{SEED_PATH}")
    assert exchange.failure.fault is Fault.TLS_VERIFY
    assert "unable to get local issuer certificate" in exchange.failure.message
    assert "--health-ca-file" in exchange.failure.message


def test_https_to_a_plain_http_port(app):
    exchange = fetch(f"https://127.0.0.1:{app.port}{SEED_PATH}")
    assert exchange.failure.fault is Fault.TLS_TO_PLAINTEXT
    assert "use http://" in exchange.failure.message


def test_http_to_an_https_port(tls_app):
    server, _ = tls_app
    exchange = fetch(f"http://127.0.0.1:{server.port}{SEED_PATH}")
    assert exchange.failure.fault is Fault.NOT_HTTP
    assert "use https://" in exchange.failure.message


def test_redirect_loop_is_named_with_its_hops(app):
    app.expect_request("/a").respond_with_data("", status=302, headers={"Location": "/b"})
    app.expect_request("/b").respond_with_data("", status=301, headers={"Location": "/a"})
    exchange = fetch(app.url_for("/a"))
    assert exchange.failure.fault is Fault.REDIRECT_LOOP
    assert exchange.failure.message.startswith("redirect loop at http://127.0.0.1:")
    assert "/a -> http://127.0.0.1" in exchange.failure.message
    assert exchange.failure.message.count(" -> ") == 2


def test_endless_redirects_stop_after_five(app):
    for hop in range(8):
        app.expect_request(f"/r{hop}").respond_with_data("", status=307, headers={"Location": f"/r{hop + 1}"})
    exchange = fetch(app.url_for("/r0"))
    assert exchange.failure.fault is Fault.REDIRECT_LOOP
    assert exchange.failure.message.startswith("over 5 redirects at")


def test_redirect_without_location(app):
    app.expect_request("/health").respond_with_data("", status=302)
    exchange = fetch(app.url_for("/health"))
    assert exchange.failure.message.startswith("a redirect at http://127.0.0.1:")
    assert "'(no Location header)'" in exchange.failure.message


def test_one_redirect_is_followed(app):
    app.expect_request("/health").respond_with_data("", status=308, headers={"Location": SEED_PATH})
    app.expect_request(SEED_PATH).respond_with_json(HEALTHY)
    exchange = fetch(app.url_for("/health"))
    assert exchange.failure is None
    assert exchange.response.redirects == (app.url_for(SEED_PATH),)


def test_404_suggests_the_seed_path(app):
    app.expect_request("/health").respond_with_json({"detail": "Not Found"}, status=404)
    exchange = fetch(app.url_for("/health"))
    assert exchange.failure.fault is Fault.HTTP_NOT_FOUND
    assert exchange.failure.message.startswith("HTTP 404")
    assert SEED_PATH in exchange.failure.message
    # FastAPI's 404 body is JSON, but not a health document: it is not judged as one.
    assert exchange.document is None
    assert exchange.document_failure is None


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors(app, status):
    app.expect_request(SEED_PATH).respond_with_data("oops", status=status)
    exchange = fetch(app.url_for(SEED_PATH))
    assert exchange.failure.fault is Fault.HTTP_SERVER_ERROR
    assert exchange.failure.message.startswith(f"HTTP {status}")
    assert "logs" in exchange.failure.message


def test_503_with_a_health_document_still_yields_the_document(app):
    body = document(status="unhealthy", services={"redis": False, "rabbitmq": False})
    app.expect_request(SEED_PATH).respond_with_json(body, status=503)
    exchange = fetch(app.url_for(SEED_PATH))
    assert exchange.failure.fault is Fault.HTTP_SERVER_ERROR
    assert exchange.document.services["redis"] is False


def test_html_error_page_where_json_was_expected(app):
    page = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
    app.expect_request(SEED_PATH).respond_with_data(page, content_type="text/html")
    exchange = fetch(app.url_for(SEED_PATH))
    assert exchange.failure is None
    assert exchange.document_failure.fault is Fault.NOT_JSON
    assert exchange.document_failure.message.startswith("an HTML page ('502 Bad Gateway') at http://")
    assert not exchange.response.is_json


def test_invalid_json(app):
    app.expect_request(SEED_PATH).respond_with_data('{"status": "healthy",', content_type="application/json")
    exchange = fetch(app.url_for(SEED_PATH))
    assert exchange.document_failure.fault is Fault.NOT_JSON
    assert exchange.document_failure.message.startswith("invalid JSON at http://")
    assert 'body starts \'{"status"' in exchange.document_failure.message


def test_missing_fields_are_named(app):
    app.expect_request(SEED_PATH).respond_with_json({"status": "healthy"})
    exchange = fetch(app.url_for(SEED_PATH))
    assert exchange.document_failure.fault is Fault.BAD_DOCUMENT
    assert "has no version, services:" in exchange.document_failure.message


def test_mistyped_fields_are_named(app):
    app.expect_request(SEED_PATH).respond_with_json(document(version=2, services={"redis": "yes"}))
    message = fetch(app.url_for(SEED_PATH)).document_failure.message
    assert "version: input should be a valid string" in message
    assert "services.redis: input should be a valid boolean" in message


def test_json_that_is_not_an_object(app):
    app.expect_request(SEED_PATH).respond_with_json([HEALTHY])
    exchange = fetch(app.url_for(SEED_PATH))
    assert exchange.document_failure.fault is Fault.BAD_DOCUMENT
    assert exchange.document_failure.message.startswith("JSON but not an object")


def test_credentials_in_the_url_are_sent_and_never_shown(app):
    basic = "Basic bW9uOnMzY3JldA=="  # mon:s3cret
    app.expect_request(SEED_PATH, headers={"Authorization": basic}).respond_with_json(HEALTHY)
    url = app.url_for(SEED_PATH).replace("http://", "http://mon:s3cret@") + "?token=t0ken"
    exchange = fetch(url)
    assert exchange.failure is None, exchange.failure
    assert exchange.response.url == f"http://mon:***@127.0.0.1:{app.port}{SEED_PATH}?token=***"
    assert "s3cret" not in repr(exchange)
    assert "t0ken" not in repr(exchange)


def test_only_credential_like_query_values_become_known_secrets():
    endpoint = parse_health_url("https://mon:pw@127.0.0.1/h?auth=true&api_key=k3y-of-length&detailed=1")
    assert set(endpoint.secrets) == {"pw", "true", "k3y-of-length", "bW9uOnB3"}  # base64 of mon:pw
    assert endpoint.redacted == "https://mon:***@127.0.0.1/h?auth=***&api_key=***&detailed=1"


def test_https_redirect_to_plain_http_is_not_followed(tls_app, app):
    server, ca_file = tls_app
    plain = app.url_for(SEED_PATH)
    server.expect_request("/health").respond_with_data("", status=302, headers={"Location": plain})
    app.expect_request(SEED_PATH).respond_with_json(HEALTHY)
    url = server.url_for("/health").replace("localhost", "127.0.0.1").replace("https://", "https://m:pw@")
    exchange = fetch(f"{url}?token=t0ken", ca_file=ca_file)
    assert exchange.failure.fault is Fault.REDIRECT_DOWNGRADE
    assert exchange.failure.message == (
        f"the https health URL https://m:***@127.0.0.1:{server.port}/health?token=*** redirects to plain "
        f"http (https://m:***@127.0.0.1:{server.port}/health?token=*** -> {plain}): not followed, the "
        "request and the document would cross the network unencrypted; fix the redirect, or give the "
        "final https URL"
    )
    assert app.log == []  # nothing was sent over plain http


def test_basic_credentials_are_masked_wherever_an_endpoint_echoes_them():
    endpoint = parse_health_url("http://probe:up@127.0.0.1:1/h")
    echoed = f'{{"headers": {{"Authorization": "{endpoint.authorization}"}}}} then {endpoint.authorization}'
    assert (
        Redactor(endpoint.secrets).scrub(echoed)
        == '{"headers": {"Authorization": "Basic ***"}} then Basic ***'
    )
