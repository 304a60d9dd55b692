"""Health: the application's own endpoint answers, says healthy, and agrees with the direct probe."""

import pytest

from redis_preflight.config.profiles import Severity
from redis_preflight.errors import health_disagrees
from redis_preflight.verdict.outcomes import unverified

pytestmark = pytest.mark.area("health")

HEALTHY, DEGRADED = "healthy", "degraded"


@pytest.mark.severity("blocking")
def test_health_endpoint_answers(health_exchange, finding):
    assert health_exchange.failure is None, str(health_exchange.failure)
    response = health_exchange.response
    via = f" after {len(response.redirects)} redirect(s)" if response.redirects else ""
    finding.observed(f"HTTP 200 from {response.url}{via} in {response.elapsed_ms:.1f} ms")


@pytest.mark.severity("advisory")
def test_health_content_type(health_response, finding):
    if health_response.status != 200:
        unverified(f"HTTP {health_response.status}: see test_health_endpoint_answers")
    assert health_response.is_json, (
        f"Content-Type {health_response.content_type or '(none)'!r} at {health_response.url}, expected "
        "application/json: clients and monitors may refuse the document; return it as JSON"
    )
    finding.observed(f"Content-Type {health_response.content_type}")


@pytest.mark.severity("advisory")
def test_health_response_time(preflight, health_response, finding):
    budget = preflight.health_budget_ms
    elapsed = health_response.elapsed_ms
    assert elapsed <= budget, (
        f"the health endpoint answered in {elapsed:.0f} ms, over the {budget:g} ms budget of the "
        f"{preflight.profile} profile: a slow dependency or an overloaded application; check its logs "
        "(or set --health-budget-ms)"
    )
    finding.observed(f"{elapsed:.1f} ms (budget {budget:g} ms)")


@pytest.mark.severity("blocking")
@pytest.mark.usefixtures("health_body_shown")
def test_health_document(preflight, health_exchange, finding):
    if health_exchange.document is None and health_exchange.document_failure is None:
        unverified(f"no health document to validate: {health_exchange.failure}")
    assert health_exchange.document_failure is None, str(health_exchange.document_failure)
    document = health_exchange.document
    required = preflight.settings.required_services
    finding.observed(
        f"status {document.status!r}, version {document.version!r}, {document.services_seen(required)}"
    )


@pytest.mark.severity("advisory")
def test_health_status(health_document, finding):
    status = health_document.status
    if status != DEGRADED:
        finding.escalate(Severity.BLOCKING)
    assert status == HEALTHY, f"the application reports status {status!r}, expected 'healthy': " + (
        "it serves with a dependency impaired; check its logs and its services"
        if status == DEGRADED
        else "it is not fit to serve; check its logs and its services"
    )
    finding.observed(f"status {status!r}")


@pytest.mark.severity("blocking")
def test_health_version(preflight, health_document, finding):
    expected = preflight.settings.expect_version
    version = health_document.version
    if expected is not None:
        assert version == expected, (
            f"the application reports version {version!r}, expected {expected!r} (--expect-version): "
            "the expected build is not live; check the rollout, and that HEALTH_URL reaches the new instances"
        )
    finding.observed(f"version {version!r}" + (" as expected" if expected else ""))


@pytest.mark.severity("blocking")
def test_health_services(preflight, health_document, finding):
    required = preflight.settings.required_services
    down = health_document.down(required)
    assert not down, (
        f"the application reports {health_document.services_seen(required)}: required "
        f"{', '.join(down)} not true: check the application's env file and its network path to them"
    )
    finding.observed(health_document.services_seen(required))


@pytest.mark.severity("blocking")
def test_health_agrees_with_direct_probe(preflight, health_document, health_response, reachability, finding):
    app_says = health_document.services.get("redis")
    if app_says is None:
        unverified("the health document has no services.redis to compare with the direct probe")
    verified = preflight.target.redacted
    assert reachability.ok or not app_says, health_disagrees(
        reachability.failure.fault,
        verified,
        health_response.cache_headers,
        preflight.settings.source_of("redis_url"),
    )
    assert app_says or not reachability.ok, (
        f"the verifier reaches {verified} but the application reports redis: false: the application "
        "cannot reach Redis: check REDIS_URL in its env file and the network path from the app host"
    )
    finding.observed(f"the application and the verifier agree: Redis {'up' if app_says else 'down'}")
