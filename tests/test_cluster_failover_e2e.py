"""A cluster after a failover (issue 14, item 1): a real 6-node cluster, a primary killed, its
replica promoted; the gate judges what is served, and the dead node is its own finding."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from helpers.topologies import LocalCluster, start_cluster, stop_primary_and_wait_failover

pytestmark = pytest.mark.xdist_group("failover-cluster")


@pytest.fixture(scope="module")
def failed_over(tmp_path_factory) -> Iterator[tuple[LocalCluster, str, str]]:
    cluster = start_cluster(tmp_path_factory.mktemp("failover-cluster"))
    stopped = stop_primary_and_wait_failover(cluster)
    address = f"127.0.0.1:{stopped.port}"
    node_id = str(cluster.view()[address]["node_id"])
    yield cluster, address, node_id
    cluster.stop()


def test_failed_over_cluster_serves_every_slot_and_names_the_dead_node(run_preflight, failed_over):
    cluster, address, node_id = failed_over
    outcome = run_preflight(
        "--redis-url", cluster.url, "--only", "connection,cluster", "--connect-timeout", "1"
    )
    assert outcome.returncode == 0, outcome.output  # local profile: no replica is wanted
    assert outcome.check("test_all_slots_served")["outcome"] == "passed"
    state = outcome.check("test_cluster_state_ok")["message"]
    assert state.endswith(
        ": 5 nodes, 3 primaries (1 failing node(s) not counted: see test_no_failing_nodes)"
    ), state
    failing = outcome.check("test_no_failing_nodes")
    assert (failing["outcome"], failing["severity"]) == ("advisory", "advisory")
    assert failing["message"] == (
        f"node {address} is marked failed and serves no slots: restart it (it rejoins as a replica) "
        f"or CLUSTER FORGET {node_id} on every node"
    )
    dead = outcome.check(f"test_node_reachable[{address}]")
    assert (dead["outcome"], dead["severity"]) == ("advisory", "advisory")


def test_failed_over_cluster_blocks_when_the_profile_wants_the_lost_replica(run_preflight, failed_over):
    cluster, address, _ = failed_over
    outcome = run_preflight(
        "--redis-url", cluster.url, "--only", "cluster", "--min-replicas", "1", "--connect-timeout", "1"
    )
    assert outcome.returncode == 1
    failing = outcome.check("test_no_failing_nodes")
    assert (failing["outcome"], failing["severity"]) == ("failed", "blocking")
    assert failing["message"].startswith(f"node {address} is marked failed and serves no slots")
    assert failing["message"].endswith(
        "(a primary lost the replica the profile wants: see test_primaries_have_replicas)"
    )
