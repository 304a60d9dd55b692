"""Fixtures the checks ask for: each hands over a probe's observation, nothing more."""

from __future__ import annotations

import pytest
import redis

from redis_preflight import stash
from redis_preflight.findings import Finding
from redis_preflight.probes.connection import Reachability, ServerIdentity, identity_of
from redis_preflight.probes.server import AnonymousAccess, anonymous_access, take_snapshot
from redis_preflight.probes.server_snapshot import Blocked, ServerSnapshot
from redis_preflight.run import PreflightRun
from redis_preflight.server_report import render_snapshot


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
def server_identity(server_snapshot: ServerSnapshot) -> ServerIdentity:
    return identity_of(server_snapshot.info)


@pytest.fixture
def finding(request: pytest.FixtureRequest) -> Finding:
    """Lets a check say what it observed, shown when it passes."""
    return Finding(request.node)


# Server area


@pytest.fixture(scope="session")
def server_snapshot(preflight: PreflightRun, redis_client: redis.Redis) -> ServerSnapshot:
    """INFO, CONFIG GET and SLOWLOG, taken once per run; without INFO the area skips."""
    snapshot = take_snapshot(redis_client, preflight.target)
    if isinstance(snapshot, Blocked):
        pytest.skip(f"{snapshot}: the checks that read INFO cannot judge this server")
    return snapshot


@pytest.fixture(scope="session")
def anonymous(preflight: PreflightRun, redis_client: redis.Redis) -> AnonymousAccess:
    """Whether the server serves a client that sends no credentials."""
    return anonymous_access(preflight.target, preflight.settings)


@pytest.fixture
def snapshot_html(pytestconfig: pytest.Config, server_snapshot: ServerSnapshot) -> str:
    """The snapshot as HTML for the report, escaped and scrubbed of secrets."""
    return render_snapshot(server_snapshot, pytestconfig.stash[stash.REDACTOR])
