"""Redis Cluster: the cluster's own view from the target node, and what a cluster client sees."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import redis
from redis.crc import key_slot
from redis.exceptions import RedisClusterException

from redis_preflight.compat.redis_py import slot_routes
from redis_preflight.config.settings import PreflightSettings
from redis_preflight.config.target import Target
from redis_preflight.errors import Diagnosis, Fault, classify, too_many_nodes, unreachable_node
from redis_preflight.probes.client import open_client, open_cluster_client
from redis_preflight.probes.connection import Reachability, reach

SLOTS = 16384
MAX_CLUSTER_NODES = 1000  # Redis Cluster's own design limit
MAX_PARALLEL_NODES = 16


@dataclass(frozen=True)
class ClusterNode:
    """One line of CLUSTER NODES."""

    address: str  # host:port as the cluster announces it
    node_id: str
    flags: tuple[str, ...]
    primary_id: str | None
    slots: tuple[tuple[int, int], ...]

    @property
    def is_primary(self) -> bool:
        return "master" in self.flags

    @property
    def role(self) -> str:
        return "primary" if self.is_primary else "replica"

    @property
    def failing(self) -> str | None:
        """ "fail" or "pfail" when the cluster sees this node failing."""
        if "fail" in self.flags:
            return "fail"
        return "pfail" if "fail?" in self.flags else None

    @property
    def slot_count(self) -> int:
        return sum(end - start + 1 for start, end in self.slots)


@dataclass(frozen=True)
class ClusterTopology:
    """CLUSTER INFO and CLUSTER NODES as the target node answers them."""

    enabled: bool
    seen_from: str
    state: str = ""
    slots_assigned: int = 0
    slots_ok: int = 0
    slots_pfail: int = 0
    slots_fail: int = 0
    nodes: tuple[ClusterNode, ...] = ()
    failure: Diagnosis | None = None
    # CLUSTER refused, and INFO cluster_enabled:0 said this is no cluster node all the same.
    blocked: Diagnosis | None = None

    @property
    def addresses(self) -> tuple[str, ...]:
        return tuple(sorted(node.address for node in self.nodes))

    def node(self, address: str) -> ClusterNode:
        return next(node for node in self.nodes if node.address == address)

    @property
    def primaries(self) -> tuple[ClusterNode, ...]:
        """Primaries that serve slots and are not failing: the nodes holding the data."""
        return tuple(n for n in self.nodes if n.is_primary and n.slots and n.failing is None)

    def replicas_of(self, primary: ClusterNode) -> tuple[ClusterNode, ...]:
        """Replicas of `primary` that are not failing themselves."""
        return tuple(n for n in self.nodes if n.primary_id == primary.node_id and n.failing is None)

    def short_of_replicas(self, wanted: int) -> bool:
        """Does any primary have fewer than `wanted` healthy replicas?"""
        return any(len(self.replicas_of(primary)) < wanted for primary in self.primaries)

    @property
    def live_nodes(self) -> tuple[ClusterNode, ...]:
        """The nodes not flagged fail or pfail: the ones a count of the cluster should include."""
        return tuple(n for n in self.nodes if n.failing is None)

    @property
    def unassigned(self) -> tuple[tuple[int, int], ...]:
        owned = sorted(span for node in self.nodes for span in node.slots)
        gaps, expected = [], 0
        for start, end in owned:
            if start > expected:
                gaps.append((expected, start - 1))
            expected = max(expected, end + 1)
        return tuple(gaps + ([(expected, SLOTS - 1)] if expected < SLOTS else []))


def discover(client: redis.Redis, target: Target, max_nodes: int = MAX_CLUSTER_NODES) -> ClusterTopology:
    """Is the target a cluster node, and if so how does it see the cluster.

    CLUSTER INFO rather than INFO cluster_enabled: the server area's snapshot is the run's one
    INFO, and a standalone server answers CLUSTER INFO with "cluster support disabled". Where
    CLUSTER is renamed away or forbidden, INFO's cluster_enabled still tells.
    """
    try:
        info = client.cluster("INFO")
        # Raw first ("CLUSTER" has no reply callback): the lines are counted before any is parsed.
        raw = client.execute_command("CLUSTER", "NODES")  # type: ignore[no-untyped-call]
    except redis.ResponseError as e:
        if "CLUSTER SUPPORT DISABLED" in str(e).upper():
            return ClusterTopology(enabled=False, seen_from=target.address)
        failure = classify(e, target)
        if failure.fault in (Fault.NOPERM, Fault.UNKNOWN_COMMAND):
            # CLUSTER blocked (Memorystore, Aiven), renamed away or forbidden: INFO still tells.
            enabled = _cluster_enabled(client)
            if enabled is False:
                return ClusterTopology(enabled=False, seen_from=target.address, blocked=failure)
            if enabled:
                return ClusterTopology(enabled=True, seen_from=target.address, failure=failure)
        return ClusterTopology(enabled=False, seen_from=target.address, failure=failure)
    except (OSError, redis.RedisError) as e:
        return ClusterTopology(enabled=False, seen_from=target.address, failure=classify(e, target))
    listed = raw.count(b"\n") if isinstance(raw, bytes) else 0
    if listed > max_nodes:
        # Each node is a test and a connection: a hostile or broken node must not make thousands.
        return ClusterTopology(False, target.address, failure=too_many_nodes(target, listed, max_nodes))
    nodes = client.response_callbacks["CLUSTER NODES"](raw)
    return ClusterTopology(
        enabled=True,
        seen_from=target.address,
        state=str(info.get("cluster_state", "unknown")),
        slots_assigned=int(info.get("cluster_slots_assigned", 0)),
        slots_ok=int(info.get("cluster_slots_ok", 0)),
        slots_pfail=int(info.get("cluster_slots_pfail", 0)),
        slots_fail=int(info.get("cluster_slots_fail", 0)),
        nodes=tuple(sorted((_node(a, fields, target) for a, fields in nodes.items()), key=_by_address)),
    )


def _cluster_enabled(client: redis.Redis) -> bool | None:
    """INFO cluster's cluster_enabled; None when INFO cannot be read either."""
    try:
        info = client.info("cluster")
    except redis.RedisError:
        return None
    return bool(info.get("cluster_enabled")) if "cluster_enabled" in info else None


def _node(address: str, fields: dict[str, Any], target: Target) -> ClusterNode:
    # A node that never met another one announces no IP (":7000"): clients use the seed's host.
    host, _, port = address.rpartition(":")
    primary = str(fields["master_id"])
    return ClusterNode(
        address=f"{host or target.host}:{port}",
        node_id=str(fields["node_id"]),
        flags=tuple(str(fields["flags"]).split(",")),
        primary_id=None if primary == "-" else primary,
        slots=tuple((int(s[0]), int(s[-1])) for s in fields.get("slots", [])),
    )


def key_served_here(topology: ClusterTopology, prefix: str) -> str:
    """A fresh key under `prefix` in a slot the target node serves, so a plain client gets no MOVED."""
    mine = next((node.slots for node in topology.nodes if "myself" in node.flags), ())
    key = f"{prefix}{uuid.uuid4()}"
    # Each try lands in the node's slots with odds slots/16384: a third of them for 3 primaries.
    for _ in range(SLOTS * 4 if mine else 0):
        if any(start <= key_slot(key.encode()) <= end for start, end in mine):
            return key
        key = f"{prefix}{uuid.uuid4()}"
    return key


def _by_address(node: ClusterNode) -> str:
    return node.address


def node_target(target: Target, address: str) -> Target:
    """The URL's scheme and credentials, at a node's announced address (a cluster has only db 0)."""
    host, _, port = address.rpartition(":")
    return replace(target, host=host.strip("[]"), port=int(port), db=0, sentinels=None)


@dataclass(frozen=True)
class NodeReach:
    """How far the verifier got towards one node, worded by what the cluster thinks of it."""

    node: ClusterNode
    target: Target  # the URL's scheme and credentials at the node's address: what per-node checks use
    reachability: Reachability
    failure: Diagnosis | None


def reach_nodes(
    topology: ClusterTopology, target: Target, settings: PreflightSettings
) -> dict[str, NodeReach]:
    """Every node, in parallel: a NAT'd cluster costs one connect timeout, not one per node."""
    translated = any("myself" in node.flags and node.address != target.address for node in topology.nodes)
    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_NODES, len(topology.nodes) or 1)) as pool:
        results = pool.map(lambda n: _reach_node(n, target, settings, translated), topology.nodes)
        return {result.node.address: result for result in results}


def _reach_node(
    node: ClusterNode, target: Target, settings: PreflightSettings, translated: bool
) -> NodeReach:
    at = node_target(target, node.address)
    client = open_client(at, settings)
    try:
        reachability = reach(at, client, settings)
    finally:
        client.close()
    failure = reachability.failure
    if failure is not None:
        failure = unreachable_node(failure, node.address, node.failing, translated=translated)
    return NodeReach(node, at, reachability, failure)


@dataclass(frozen=True)
class ClusterClientView:
    """What redis-py's RedisCluster found when bootstrapping from the URL, as the application's will."""

    primaries: tuple[str, ...] = ()
    slots_mapped: int = 0
    elapsed_ms: float = 0.0
    failure: Diagnosis | None = None


def bootstrap(target: Target, settings: PreflightSettings) -> ClusterClientView:
    started = time.perf_counter()
    try:
        cluster = open_cluster_client(target, settings)
    except (OSError, redis.RedisError, RedisClusterException) as e:
        return ClusterClientView(failure=classify(e, target))
    try:
        routes = slot_routes(cluster)
        primaries = tuple(sorted({nodes[0].name for nodes in routes.values()}))
        mapped = len(routes)
    finally:
        cluster.close()
    return ClusterClientView(primaries, mapped, (time.perf_counter() - started) * 1000)


def slot_ranges(spans: tuple[tuple[int, int], ...], limit: int = 4) -> str:
    """ "0-99, 200, ..." for a message: the first few ranges, then how many more."""
    shown = [f"{start}-{end}" if end > start else str(start) for start, end in spans[:limit]]
    more = f" and {len(spans) - limit} more ranges" if len(spans) > limit else ""
    return ", ".join(shown) + more
