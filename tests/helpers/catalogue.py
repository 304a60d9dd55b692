"""The catalogue of hostile peers: each case, the arguments it gives the verifier, what it must say.

Shared by tests/test_hostile_e2e.py (which asserts) and benchmarks/hostile.py (which measures).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis

from helpers import hostile, topologies
from helpers.hostile import Rewrite
from redis_preflight.ephemeral.local_server import LocalRedis, free_port


@dataclass
class Upstream:
    """The real redis-server behind the proxy, seeded with a few keys of the default contract."""

    server: LocalRedis
    directory: Path


def seed(server: LocalRedis) -> None:
    client = redis.Redis(port=server.port)
    client.set("rate_limit:1.2.3.4", b"7", ex=24 * 3600)
    client.set("user_session:abc", b'{"user_id": 1}', ex=24 * 3600)
    client.close()


@dataclass(frozen=True)
class Given:
    """The verifier's arguments, and the port its diagnosis names (the proxy's, a dead node's)."""

    args: tuple[str, ...]
    port: int = 0


Peer = Callable[[Upstream], AbstractContextManager[Given]]


def proxied(rewrites: dict[str, Rewrite], *args: str) -> Peer:
    @contextmanager
    def peer(upstream: Upstream) -> Iterator[Given]:
        with hostile.resp_proxy(upstream.server.port, rewrites) as port:
            yield Given(("--redis-url", f"redis://127.0.0.1:{port}/0", *args), port)

    return peer


def health(answer: Callable[[bytes], hostile.Reply]) -> Peer:
    @contextmanager
    def peer(upstream: Upstream) -> Iterator[Given]:
        with hostile.http_peer(answer) as port:
            yield Given(
                ("--redis-url", upstream.server.url, "--health-url", f"http://127.0.0.1:{port}/health")
            )

    return peer


@contextmanager
def dead_primary(upstream: Upstream) -> Iterator[Given]:
    """Three primaries, no replicas; one (not the seed) killed just before the run, which ends
    before the cluster flags it (a node timeout of a minute)."""
    cluster = topologies.start_cluster(
        upstream.directory / "dead-primary", 3, 0, "cluster-node-timeout 60000"
    )
    try:
        dead = cluster.nodes[1]
        dead.stop()
        yield Given(("--redis-url", cluster.url), dead.port)
    finally:
        cluster.stop()


@contextmanager
def announced_dead(upstream: Upstream) -> Iterator[Given]:
    """One healthy node announcing a port nothing listens on, as a NAT or a container would."""
    announced = free_port()
    cluster = topologies.start_single_node_cluster(
        upstream.directory / "announced-dead", 16383, f"cluster-announce-port {announced}"
    )
    try:
        yield Given(("--redis-url", cluster.url), announced)
    finally:
        cluster.stop()


@dataclass(frozen=True)
class Case:
    name: str
    peer: Peer
    check: str  # the check that reports the fault
    says: str  # what its message contains
    outcome: str = "failed"


CATALOGUE = (
    Case(
        "ping-endless-array",
        proxied({"PING": hostile.endless_array}),
        "test_ping",
        "reply from 127.0.0.1:{port} announced 2,147,483,647 elements, over 16 MiB (--max-reply-bytes)",
    ),
    Case(
        "info-endless-array",
        proxied({"INFO": hostile.endless_array}),
        "test_server_snapshot",
        "INFO reply from 127.0.0.1:{port} announced 2,147,483,647 elements, over 16 MiB (--max-reply-bytes)",
        "unverified",
    ),
    Case(
        "scan-endless-array",
        proxied({"SCAN": hostile.endless_array}),
        "test_census",
        "SCAN reply from 127.0.0.1:{port} announced 2,147,483,647 elements, over 16 MiB (--max-reply-bytes)",
        "unverified",
    ),
    Case(
        "mget-larger-than-strlen",
        proxied({"MGET": hostile.mget_larger_than_strlen}),
        "test_census",
        "bytes their STRLEN said: a value is larger than STRLEN reports, so the census stopped",
        "advisory",  # the census check is advisory; the per-pattern checks it leaves are unverified
    ),
    Case(
        "info-500-mb",
        proxied({"INFO": hostile.huge_bulk(500 << 20)}),
        "test_server_snapshot",
        "INFO reply from 127.0.0.1:{port} announced a 500 MiB string, over 16 MiB (--max-reply-bytes)",
        "unverified",
    ),
    Case(
        "ping-1-byte-per-s",
        proxied({"PING": hostile.trickle}),
        "test_ping",
        "read timeout at 127.0.0.1:{port}",
    ),
    Case(
        "scan-1-byte-per-s",
        proxied({"SCAN": hostile.trickle}),
        "test_census",
        "no complete SCAN reply within 1 s",
        "unverified",
    ),
    Case(
        "info-1-byte-per-s",
        proxied({"INFO": hostile.trickle}),
        "test_server_identity",
        "no complete INFO reply within 1 s",
    ),
    Case(
        "health-headers-1-byte-per-s",
        health(hostile.slow_headers),
        "test_health_endpoint_answers",
        "read timeout",
    ),
    Case(
        "health-chunk-size-1-byte-per-s",
        health(hostile.slow_chunk_size),
        "test_health_endpoint_answers",
        "read timeout",
    ),
    Case(
        "health-500-mb-body",
        health(hostile.huge_body),
        "test_health_endpoint_answers",
        "exceeded 16 MiB (--max-reply-bytes)",
    ),
    Case(
        "scan-cursor-cycles-full-scan",
        proxied({"SCAN": hostile.cycling_cursor}, "--full-scan"),
        "test_census",
        "a second time, after 3 keys: its cursor goes round in circles, so the census stopped",
        "advisory",
    ),
    Case(
        "cluster-nodes-100000-lines",
        proxied({"CLUSTER INFO": hostile.cluster_info, "CLUSTER NODES": hostile.cluster_nodes(100_000)}),
        "test_cluster_state_ok",
        "lists 100,000 nodes, over 1,000 (--max-cluster-nodes)",
    ),
    Case(
        "bulk-2-40-then-silence",
        proxied({"INFO": hostile.bulk_then_silence}),
        "test_server_snapshot",
        "INFO reply from 127.0.0.1:{port} announced a 1 TiB string, over 16 MiB (--max-reply-bytes)",
        "unverified",
    ),
    Case(
        "loading-mid-census",
        proxied({"MGET": hostile.loading}),
        "test_census",
        "LOADING at 127.0.0.1:{port}: the server is still loading its dataset",
        "unverified",
    ),
    Case(
        "dead-cluster-primary",
        dead_primary,
        "test_node_reachable[127.0.0.1:{port}]",
        "connection refused at 127.0.0.1:{port}: the node is down",
    ),
    Case(
        "node-announced-at-dead-address",
        announced_dead,
        "test_node_reachable[127.0.0.1:{port}]",
        "announced address unreachable at 127.0.0.1:{port}: the cluster sends clients there",
    ),
)
