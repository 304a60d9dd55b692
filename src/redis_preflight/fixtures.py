"""Fixtures the checks ask for: each hands over a probe's observation, nothing more."""

from __future__ import annotations

import html
from collections.abc import Iterator

import pytest
import pytest_html
import redis

from redis_preflight import stash
from redis_preflight.census import Census, PatternCensus
from redis_preflight.client import open_client
from redis_preflight.errors import CERTIFICATE_FAULTS, Diagnosis, Fault
from redis_preflight.findings import Finding
from redis_preflight.pictures import latency_histogram, slow_command_table
from redis_preflight.probes import auth, tls
from redis_preflight.probes.cluster import (
    ClusterClientView,
    ClusterTopology,
    NodeReach,
    bootstrap,
    node_target,
    reach_nodes,
)
from redis_preflight.probes.connection import Reachability, ServerIdentity, identity_of
from redis_preflight.probes.health import HealthDocument, HealthExchange, HealthResponse, fetch_health
from redis_preflight.probes.keys import take_census
from redis_preflight.probes.latency import (
    LatencyEvents,
    LatencySample,
    SlowLog,
    read_latency_events,
    read_slowlog,
    sample_latency,
)
from redis_preflight.probes.sentinel import SentinelView, observe
from redis_preflight.probes.server import AnonymousAccess, anonymous_access, take_snapshot
from redis_preflight.probes.server_snapshot import Blocked, ServerSnapshot
from redis_preflight.progress import CensusProgress
from redis_preflight.run import PreflightRun
from redis_preflight.server_report import render_snapshot
from redis_preflight.target import Target


def skip_if_stopped_answering(item: pytest.Item, run: PreflightRun) -> None:
    """Once the server stopped answering mid-run, checks that need it skip before any fixture waits."""
    if run.stopped is not None and "redis_client" in getattr(item, "fixturenames", ()):
        pytest.skip(str(run.stopped))


@pytest.fixture(scope="session")
def preflight(request: pytest.FixtureRequest) -> PreflightRun:
    """The run: settings, target, profile and budgets (of one target, when a fleet is verified)."""
    return stash.fleet(request.config)[getattr(request, "param", 0)]


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


def skip_if_forbidden(failure: Diagnosis | None) -> None:
    """A probe that caught NOPERM: its checks are skipped naming the command, as forbidden.py does."""
    if failure is not None and failure.fault is Fault.NOPERM:
        pytest.skip(str(failure))


# --- authentication and TLS ---------------------------------------------------------------


@pytest.fixture(scope="session")
def tls_session(preflight: PreflightRun, reachability: Reachability) -> tls.TlsSession:
    """The walk's TLS session; where the handshake rejected the certificate, the one presented."""
    if not preflight.target.tls:
        pytest.skip("plaintext target (redis://): no TLS to check")
    if reachability.tls is not None:
        return reachability.tls
    if reachability.failure is None or reachability.failure.fault not in CERTIFICATE_FAULTS:
        pytest.skip(f"no TLS session: {reachability.failure}")
    return tls.presented(preflight.target, preflight.settings)


@pytest.fixture(scope="session")
def tls_verification(preflight: PreflightRun) -> Diagnosis | None:
    """Under --tls-insecure, what a verified handshake says (None: it succeeds); else None."""
    if not preflight.settings.tls_insecure:
        return None
    return tls.verification(preflight.target, preflight.settings)


@pytest.fixture(scope="session")
def plaintext_port(preflight: PreflightRun, reachability: Reachability) -> tls.PlaintextPort:
    """Whether the host also answers plaintext Redis on --plaintext-port."""
    target, port = preflight.target, preflight.settings.plaintext_port
    if not target.tls:
        pytest.skip("plaintext target (redis://): see test_tls_required")
    if port == 0 or port == target.port:
        pytest.skip(f"no plaintext probe: --plaintext-port is {port} (0 disables it)")
    if reachability.stopped_before("tls"):
        pytest.skip(f"target unreachable: {reachability.failure}")
    return tls.plaintext_beside(target, preflight.settings)


@pytest.fixture(scope="session")
def privileges(preflight: PreflightRun, redis_client: redis.Redis) -> auth.Privileges:
    """The connected user's rules and rights (ACL GETUSER, ACL DRYRUN): one probe for every area."""
    return auth.privileges(redis_client, preflight.target.username or "default")


# --- The application's health endpoint ----------------------------------------------------------

NO_HEALTH_URL = (
    "no health URL: give --health-url or HEALTH_URL "
    "(e.g. http://localhost:8000/api/v1/health/detailed) to check the application's own view"
)
# HEALTH_URL is one application's: in a fleet it is checked with the first target only.
FLEET_HEALTH = "the health endpoint is checked with the fleet's first target, the application's own"
SHOWN_BODY_BYTES = 4096


@pytest.fixture(scope="session")
def health_exchange(preflight: PreflightRun) -> HealthExchange:
    """One GET of the application's health endpoint per run; health checks skip without a URL."""
    if preflight.health is None:
        pytest.skip(NO_HEALTH_URL if preflight.settings.health_url is None else FLEET_HEALTH)
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


# Cluster and Sentinel (checks/test_cluster.py, checks/test_sentinel.py).


@pytest.fixture(scope="session")
def cluster(preflight: PreflightRun, redis_client: redis.Redis) -> ClusterTopology:
    """The cluster as the target node sees it; cluster checks skip on any other target."""
    topology = preflight.cluster
    if topology.failure is not None and topology.failure.fault in (Fault.NOPERM, Fault.UNKNOWN_COMMAND):
        pytest.skip(f"cannot tell whether this is a cluster node: {topology.failure}")
    if not topology.enabled and topology.failure is None:
        pytest.skip(
            "not a Redis Cluster (CLUSTER INFO: cluster support disabled): "
            "the cluster checks apply to cluster nodes"
        )
    return topology


@pytest.fixture(scope="session")
def cluster_reach(preflight: PreflightRun, cluster: ClusterTopology) -> dict[str, NodeReach]:
    """Every node of the cluster, reached from here at the address it announces."""
    return reach_nodes(cluster, preflight.target, preflight.settings)


@pytest.fixture
def cluster_node(request: pytest.FixtureRequest, cluster_reach: dict[str, NodeReach]) -> NodeReach:
    """One node per test (the ids name it): see fleet.parametrize."""
    if not hasattr(request, "param"):
        pytest.skip("no cluster node was listed at collection: see test_cluster_state_ok")
    return cluster_reach[request.param]


@pytest.fixture(scope="session")
def cluster_client(preflight: PreflightRun, cluster: ClusterTopology) -> ClusterClientView:
    view = bootstrap(preflight.target, preflight.settings)
    skip_if_forbidden(view.failure)
    return view


@pytest.fixture(scope="session")
def primary_clients(
    preflight: PreflightRun, redis_client: redis.Redis
) -> Iterator[tuple[tuple[Target, redis.Redis], ...]]:
    """A client per primary holding data: each cluster primary, else the target itself.

    The hook for checks that must see every key: the key census SCANs through each of these.
    """
    topology = preflight.cluster
    if not topology.enabled:
        yield ((preflight.target, redis_client),)
        return
    targets = [node_target(preflight.target, node.address) for node in topology.primaries]
    clients = [open_client(target, preflight.settings) for target in targets]
    try:
        yield tuple(zip(targets, clients, strict=True))
    finally:
        for client in clients:
            client.close()


@pytest.fixture(scope="session")
def sentinel(preflight: PreflightRun) -> SentinelView:
    """What the sentinels say; the Sentinel checks skip on any other target."""
    if preflight.sentinel is None:
        pytest.skip("not a Sentinel URL (redis+sentinel://HOST:26379/SERVICE/0): nothing to ask")
    return observe(preflight.sentinel, preflight.target, preflight.settings)


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


# --- keys area ---
@pytest.fixture(scope="session")
def census(
    primary_clients: tuple[tuple[Target, redis.Redis], ...],
    preflight: PreflightRun,
    pytestconfig: pytest.Config,
) -> Census:
    """The key census of every primary (the target, or each primary of a cluster), once per run."""
    clients = [client for _, client in primary_clients]
    progress = CensusProgress(pytestconfig) if CensusProgress.wanted(pytestconfig) else None
    try:
        return take_census(
            clients,
            preflight.contract,
            preflight.census_bounds,
            cluster=preflight.cluster.enabled,
            progress=progress,
        )
    finally:
        if progress is not None:
            progress.done()


@pytest.fixture
def pattern_census(census: Census, pattern: str) -> PatternCensus:
    """The census of the pattern a parametrized keys check is about."""
    return census.pattern(pattern)
