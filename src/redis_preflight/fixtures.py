"""Fixtures the checks ask for: each hands over a probe's observation, nothing more."""

from __future__ import annotations

import html

import pytest
import pytest_html
import redis

from redis_preflight import stash
from redis_preflight.findings import Finding
from redis_preflight.pictures import latency_histogram, slow_command_table
from redis_preflight.probes.connection import Reachability, ServerIdentity, identify
from redis_preflight.probes.health import HealthDocument, HealthExchange, HealthResponse, fetch_health
from redis_preflight.probes.latency import (
    LatencyEvents,
    LatencySample,
    SlowLog,
    read_latency_events,
    read_slowlog,
    sample_latency,
)
from redis_preflight.run import PreflightRun


def skip_if_stopped_answering(item: pytest.Item, run: PreflightRun) -> None:
    """Once the server stopped answering mid-run, checks that need it skip before any fixture waits."""
    if run.stopped is not None and "redis_client" in getattr(item, "fixturenames", ()):
        pytest.skip(str(run.stopped))


@pytest.fixture(scope="session")
def preflight(pytestconfig: pytest.Config) -> PreflightRun:
    """The run: settings, target, profile and budgets."""
    return stash.run(pytestconfig)


@pytest.fixture(scope="session")
def reachability(preflight: PreflightRun) -> Reachability:
    """How far the verifier got towards the server; probed once per run."""
    return preflight.reachability


@pytest.fixture(scope="session")
def redis_client(preflight: PreflightRun) -> redis.Redis:
    """The run's client; every check that needs the server skips at once if it is unreachable."""
    if not preflight.reachability.ok:
        pytest.skip(f"target unreachable: {preflight.reachability.failure}")
    return preflight.client


@pytest.fixture(scope="session")
def server_identity(redis_client: redis.Redis) -> ServerIdentity:
    return identify(redis_client)


@pytest.fixture
def finding(request: pytest.FixtureRequest) -> Finding:
    """Lets a check say what it observed, shown when it passes."""
    return Finding(request.node)


# --- The application's health endpoint ----------------------------------------------------------

NO_HEALTH_URL = (
    "no health URL: give --health-url or HEALTH_URL "
    "(e.g. http://localhost:8000/api/v1/health/detailed) to check the application's own view"
)
SHOWN_BODY_BYTES = 4096


@pytest.fixture(scope="session")
def health_exchange(preflight: PreflightRun) -> HealthExchange:
    """One GET of the application's health endpoint per run; health checks skip without a URL."""
    if preflight.health is None:
        pytest.skip(NO_HEALTH_URL)
    return fetch_health(
        preflight.health,
        ca_file=preflight.settings.health_ca_file,
        connect_timeout=preflight.settings.connect_timeout,
        read_timeout=preflight.settings.socket_timeout,
    )


@pytest.fixture(scope="session")
def health_document(health_exchange: HealthExchange) -> HealthDocument:
    """The validated health document; the checks of its content skip when there is none."""
    if health_exchange.document is None:
        pytest.skip(f"no health document: {health_exchange.document_failure or health_exchange.failure}")
    return health_exchange.document


@pytest.fixture(scope="session")
def health_response(health_exchange: HealthExchange) -> HealthResponse:
    """The final HTTP answer; the checks of the answer skip when none came."""
    if health_exchange.response is None:
        pytest.skip(f"health endpoint unavailable: {health_exchange.failure}")
    return health_exchange.response


@pytest.fixture
def health_body_shown(
    health_exchange: HealthExchange, extras: list[dict[str, str | None]], pytestconfig: pytest.Config
) -> None:
    """The body as received, scrubbed of secrets and escaped, in the check's row of report.html."""
    if health_exchange.response is not None:
        text = health_exchange.response.body[:SHOWN_BODY_BYTES].decode("utf-8", errors="replace")
        shown = html.escape(pytestconfig.stash[stash.REDACTOR].scrub(text))
        extras.append(pytest_html.extras.html(f"<pre>{shown}</pre>"))


# Latency: each observed once per run, shared by the checks that judge it.
@pytest.fixture(scope="session")
def latency(preflight: PreflightRun, redis_client: redis.Redis) -> LatencySample:
    settings = preflight.settings
    return sample_latency(redis_client, settings.latency_samples, settings.latency_window)


@pytest.fixture(scope="session")
def slow_commands(preflight: PreflightRun, redis_client: redis.Redis) -> SlowLog:
    return read_slowlog(redis_client, preflight.target)


@pytest.fixture(scope="session")
def latency_events(preflight: PreflightRun, redis_client: redis.Redis) -> LatencyEvents:
    return read_latency_events(redis_client, preflight.target)


@pytest.fixture
def latency_histogram_shown(
    preflight: PreflightRun, latency: LatencySample, extras: list[dict[str, str | None]]
) -> None:
    """The PING burst as an inline SVG histogram in the check's row of report.html."""
    extras.append(pytest_html.extras.html(latency_histogram(latency, preflight.budgets)))


@pytest.fixture
def slow_commands_shown(
    preflight: PreflightRun, slow_commands: SlowLog, extras: list[dict[str, str | None]]
) -> None:
    """SLOWLOG's entries, secrets masked and escaped, as a table in the check's row of report.html."""
    if slow_commands.refused is None:
        table = slow_command_table(slow_commands, preflight.budgets.slowlog_threshold_ms)
        extras.append(pytest_html.extras.html(table))
