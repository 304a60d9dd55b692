"""Fixtures the checks ask for: each hands over a probe's observation, nothing more."""

from __future__ import annotations

import pytest
import redis

from redis_preflight import stash
from redis_preflight.findings import Finding
from redis_preflight.probes.connection import Reachability, ServerIdentity, identify
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
