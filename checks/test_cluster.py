"""Cluster: healthy as its nodes see it, every slot served, every node reachable from here."""

import pytest

from redis_preflight.config.profiles import Severity
from redis_preflight.probes.cluster import SLOTS, slot_ranges

pytestmark = [pytest.mark.area("cluster"), pytest.mark.severity("blocking")]


def test_cluster_state_ok(cluster, finding):
    assert cluster.failure is None, str(cluster.failure)
    assert cluster.state == "ok", (
        f"cluster_state is {cluster.state} as {cluster.seen_from} sees it ({cluster.slots_assigned} of "
        f"{SLOTS} slots assigned, {cluster.slots_fail} on failed nodes): the cluster answers CLUSTERDOWN; "
        f"see the slot and node checks, then redis-cli --cluster check {cluster.seen_from}"
    )
    live = cluster.live_nodes
    primaries = sum(1 for node in live if node.is_primary)
    failed = len(cluster.nodes) - len(live)
    uncounted = f" ({failed} failing node(s) not counted: see test_no_failing_nodes)" if failed else ""
    seen = f"cluster_state ok as {cluster.seen_from} sees it"
    finding.observed(f"{seen}: {len(live)} nodes, {primaries} primaries{uncounted}")


def test_all_slots_served(cluster, cluster_reach, finding):
    assert cluster.failure is None, str(cluster.failure)
    unassigned = cluster.unassigned
    assert not unassigned, (
        f"{SLOTS - cluster.slots_assigned} of {SLOTS} slots are assigned to no node "
        f"({slot_ranges(unassigned)}): keys hashing there fail with CLUSTERDOWN; assign them "
        f"(redis-cli --cluster fix {cluster.seen_from}, or CLUSTER ADDSLOTSRANGE)"
    )
    assert cluster.slots_ok == SLOTS, (
        f"{cluster.slots_fail} slots on failed and {cluster.slots_pfail} on possibly failed primaries: "
        "no replica took them over; restart the primary, or promote a replica (CLUSTER FAILOVER)"
    )
    cut_off = [reach for reach in cluster_reach.values() if reach.node.slots and reach.failure is not None]
    assert not cut_off, (
        "slots "
        + ", ".join(
            f"{slot_ranges(reach.node.slots)} are served by {reach.node.address}" for reach in cut_off
        )
        + f": {cut_off[0].failure}"
    )
    served_by = sum(1 for node in cluster.nodes if node.slots)
    finding.observed(f"{SLOTS} slots assigned and served by {served_by} primaries, all reachable from here")


def test_no_failing_nodes(cluster, preflight, finding):
    assert cluster.failure is None, str(cluster.failure)
    failing = [node for node in cluster.nodes if node.failing]
    serving = [node for node in failing if node.slots]
    short = cluster.short_of_replicas(preflight.min_replicas)
    if failing and not serving and not short:
        # Failed over: its slots are served elsewhere and no replica the profile wants is missing.
        finding.escalate(Severity.ADVISORY)
    assert not serving, (
        ", ".join(f"{node.role} {node.address} is flagged {node.failing}" for node in serving)
        + " by the cluster and still owns slots: restart it, or replace it and CLUSTER FORGET its id "
        "on every node"
    )
    assert not failing, (
        ", ".join(f"node {node.address} is marked failed and serves no slots" for node in failing)
        + ": restart it (it rejoins as a replica) or CLUSTER FORGET "
        + ", ".join(node.node_id for node in failing)
        + " on every node"
        + (
            " (a primary lost the replica the profile wants: see test_primaries_have_replicas)"
            if short
            else ""
        )
    )
    finding.observed(f"no node flagged fail or pfail among {len(cluster.nodes)}")


def test_primaries_have_replicas(cluster, preflight, finding):
    assert cluster.failure is None, str(cluster.failure)
    wanted = preflight.min_replicas
    counts = {primary.address: len(cluster.replicas_of(primary)) for primary in cluster.primaries}
    short = {address: count for address, count in counts.items() if count < wanted}
    assert not short, (
        f"below the {wanted} replica(s) wanted (--min-replicas; default 1 in production): "
        + ", ".join(f"primary {address} has {count}" for address, count in short.items())
        + "; losing one loses its slots; add replicas (redis-cli --cluster add-node NEW_HOST:PORT "
        "PRIMARY_HOST:PORT --cluster-slave)"
    )
    shown = ", ".join(f"{address}: {count}" for address, count in counts.items())
    finding.observed(f"replicas per primary (at least {wanted} wanted): {shown}")


def test_cluster_client_connects(cluster_client, finding):
    assert cluster_client.failure is None, str(cluster_client.failure)
    finding.observed(
        f"a cluster client (redis-py RedisCluster) started from the URL in "
        f"{cluster_client.elapsed_ms:.1f} ms: {len(cluster_client.primaries)} primaries, "
        f"{cluster_client.slots_mapped} slots mapped"
    )


def test_node_reachable(cluster_node, finding):
    node = cluster_node.node
    if node.failing and not node.slots:
        # The cluster already counts it out; test_no_failing_nodes judges it.
        finding.escalate(Severity.ADVISORY)
    assert cluster_node.failure is None, str(cluster_node.failure)
    node, handshake = cluster_node.node, cluster_node.reachability.handshake
    finding.observed(f"{node.role} {node.address}: PONG in {handshake.elapsed_ms:.2f} ms")
