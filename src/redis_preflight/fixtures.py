"""Fixtures the checks ask for: each hands over a probe's observation, nothing more."""

from __future__ import annotations

import pytest
import redis

from redis_preflight import stash
from redis_preflight.census import Census, PatternCensus
from redis_preflight.findings import Finding
from redis_preflight.probes.connection import Reachability, ServerIdentity, identify
from redis_preflight.probes.keys import take_census
from redis_preflight.run import PreflightRun


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


# --- keys area ---
@pytest.fixture(scope="session")
def census(redis_client: redis.Redis, preflight: PreflightRun) -> Census:
    """The key census, taken once per run within the run's bounds."""
    return take_census(redis_client, preflight.contract, preflight.census_bounds)


@pytest.fixture
def pattern_census(census: Census, pattern: str) -> PatternCensus:
    """The census of the pattern a parametrized keys check is about."""
    return census.pattern(pattern)
