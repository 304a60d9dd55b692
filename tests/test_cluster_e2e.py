"""Redis Cluster end to end, against real local clusters started by the test session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from helpers.topologies import (
    LocalCluster,
    start_cluster,
    start_single_node_cluster,
    stop_primary_and_wait_failover,
)

from conftest import server_line
from redis_preflight.config.target import parse_target
from redis_preflight.ephemeral.local_server import free_port
from redis_preflight.errors import Fault, classify

# One worker starts these clusters once (pytest -n 2 runs with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("cluster")

CLUSTER_CHECKS = (
    "test_cluster_state_ok",
    "test_all_slots_served",
    "test_no_failing_nodes",
    "test_primaries_have_replicas",
    "test_cluster_client_connects",
)


@pytest.fixture(scope="session")
def healthy_cluster(tmp_path_factory) -> Iterator[LocalCluster]:
    """Three primaries with one replica each."""
    cluster = start_cluster(tmp_path_factory.mktemp("healthy-cluster"))
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def degraded_cluster(tmp_path_factory) -> Iterator[tuple[LocalCluster, int]]:
    """Three primaries with one replica each, then one primary stopped and failed over."""
    cluster = start_cluster(tmp_path_factory.mktemp("degraded-cluster"))
    stopped = stop_primary_and_wait_failover(cluster)
    yield cluster, stopped.port
    cluster.stop()


@pytest.fixture(scope="session")
def partial_cluster(tmp_path_factory) -> Iterator[LocalCluster]:
    """One node owning slots 0-16000: 383 slots are assigned to no one."""
    cluster = start_single_node_cluster(tmp_path_factory.mktemp("partial-cluster"), 16000)
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def natted_cluster(tmp_path_factory) -> Iterator[tuple[LocalCluster, int]]:
    """One healthy node announcing a port nothing listens on, as a NAT or a container would."""
    announced = free_port()
    cluster = start_single_node_cluster(
        tmp_path_factory.mktemp("natted-cluster"), 16383, f"cluster-announce-port {announced}"
    )
    yield cluster, announced
    cluster.stop()


def node_checks(outcome) -> dict[str, dict]:
    return {
        c["id"].split("::")[-1]: c for c in outcome.summary["checks"] if "test_node_reachable[" in c["id"]
    }


def test_healthy_cluster_passes_with_a_result_per_node(run_preflight, healthy_cluster):
    outcome = run_preflight(
        "--redis-url", healthy_cluster.url, "--profile", "production", "--only", "connection,cluster"
    )
    assert outcome.returncode == 0, outcome.output
    for name in CLUSTER_CHECKS:
        assert outcome.check(name)["outcome"] == "passed", outcome.check(name)
    assert outcome.check("test_server_identity")["message"].startswith("redis {}.{}".format(*server_line()))
    nodes = node_checks(outcome)
    assert sorted(nodes) == sorted(f"test_node_reachable[127.0.0.1:{n.port}]" for n in healthy_cluster.nodes)
    assert all(c["outcome"] == "passed" and " PONG in " in c["message"] for c in nodes.values())
    assert outcome.check("test_primaries_have_replicas")["message"].startswith(
        "replicas per primary (at least 1 wanted): "
    )
    assert "3 primaries, 16384 slots mapped" in outcome.check("test_cluster_client_connects")["message"]


def test_more_replicas_wanted_than_present(run_preflight, healthy_cluster):
    outcome = run_preflight("--redis-url", healthy_cluster.url, "--min-replicas", "2")
    assert outcome.returncode == 1
    replicas = outcome.check("test_primaries_have_replicas")
    assert replicas["outcome"] == "failed"
    assert replicas["message"].startswith("below the 2 replica(s) wanted (--min-replicas")
    assert replicas["message"].count(" has 1") == 3


def test_stopped_primary_is_detected(run_preflight, degraded_cluster):
    cluster, stopped = degraded_cluster
    outcome = run_preflight("--redis-url", cluster.url, "--min-replicas", "1", "--connect-timeout", "1")
    assert outcome.returncode == 1
    failing = outcome.check("test_no_failing_nodes")
    assert failing["outcome"] == "failed"
    assert failing["message"].startswith(f"node 127.0.0.1:{stopped} is marked failed and serves no slots")
    down = node_checks(outcome)[f"test_node_reachable[127.0.0.1:{stopped}]"]
    assert down["message"].startswith(f"node down at 127.0.0.1:{stopped}: connection refused here")
    # The replica took over: every slot is served again, but the new primary has no replica.
    assert outcome.check("test_cluster_state_ok")["outcome"] == "passed"
    assert outcome.check("test_all_slots_served")["outcome"] == "passed"
    assert " has 0; " in outcome.check("test_primaries_have_replicas")["message"]


def test_unassigned_slots(run_preflight, partial_cluster):
    outcome = run_preflight("--redis-url", partial_cluster.url)
    assert outcome.returncode == 1
    state = outcome.check("test_cluster_state_ok")
    assert state["message"].startswith(f"cluster_state is fail as 127.0.0.1:{partial_cluster.nodes[0].port}")
    slots = outcome.check("test_all_slots_served")
    assert slots["message"].startswith("383 of 16384 slots are assigned to no node (16001-16383)")
    assert outcome.check("test_no_failing_nodes")["outcome"] == "passed"


def test_announced_address_the_verifier_cannot_reach(run_preflight, natted_cluster):
    cluster, announced = natted_cluster
    outcome = run_preflight("--redis-url", cluster.url)
    assert outcome.returncode == 1
    expected = f"announced address unreachable at 127.0.0.1:{announced}: the cluster sends clients there"
    assert node_checks(outcome)[f"test_node_reachable[127.0.0.1:{announced}]"]["message"].startswith(expected)
    assert outcome.check("test_cluster_client_connects")["message"].startswith(expected)
    assert outcome.check("test_all_slots_served")["message"].startswith(
        f"slots 0-16383 are served by 127.0.0.1:{announced}: {expected}"
    )
    assert outcome.check("test_cluster_state_ok")["outcome"] == "passed"
    assert outcome.check("test_ping")["outcome"] == "passed"


def test_cluster_has_only_db_0(run_preflight, healthy_cluster):
    outcome = run_preflight("--redis-url", healthy_cluster.url.replace("/0", "/1"))
    assert outcome.returncode == 1
    assert outcome.check("test_db_selectable")["message"].startswith("a cluster has only db 0 at")


def test_write_round_trip_uses_a_key_the_target_node_serves(run_preflight, healthy_cluster):
    outcome = run_preflight("--redis-url", healthy_cluster.url, "--allow-write")
    assert outcome.returncode == 0, outcome.output
    assert outcome.check("test_write_round_trip")["message"].startswith("SET/GET/DEL preflight:probe:")


def test_cluster_in_a_fleet_names_target_and_node(run_preflight, healthy_cluster, plain_redis):
    outcome = run_preflight("--redis-url", healthy_cluster.url, "--redis-url", plain_redis.url)
    assert outcome.returncode == 0, outcome.output
    seed = healthy_cluster.url.removeprefix("redis://").removesuffix("/0")
    assert (
        len([i for i in node_checks(outcome) if i.startswith(f"test_node_reachable[{seed}-127.0.0.1:")]) == 6
    )
    html = (outcome.report_dir / "report.html").read_text()
    assert "Target</th>" in html
    rows = [c for c in outcome.summary["checks"] if c["outcome"] != "not_applicable"]
    assert html.count('class="col-target"') == len(rows)  # a Target cell per row (n/a ones grouped)
    plain = plain_redis.url.removeprefix("redis://").removesuffix("/0")
    skipped = next(c for c in outcome.summary["checks"] if c["id"].endswith(f"test_node_reachable[{plain}]"))
    assert skipped["message"].startswith("not a Redis Cluster (CLUSTER INFO: cluster support disabled)")


def test_non_cluster_target_skips_the_cluster_checks(run_preflight, plain_redis):
    outcome = run_preflight("--redis-url", plain_redis.url)
    assert outcome.returncode == 0, outcome.output
    for name in (*CLUSTER_CHECKS, "test_node_reachable"):
        check = outcome.check(name)
        assert (check["outcome"], check["area"]) == ("not_applicable", "cluster")
        assert check["message"].startswith("not a Redis Cluster (CLUSTER INFO: cluster support disabled)")


HOOK_CHECK = """
def test_census_sees_every_primary(primary_clients, finding):
    sizes = [(target.address, client.dbsize()) for target, client in primary_clients]
    finding.observed(f"{len(sizes)} primaries: " + ", ".join(address for address, _ in sizes))
"""


def test_primary_clients_hook_gives_one_client_per_primary(
    run_preflight, healthy_cluster, plain_redis, tmp_path
):
    (tmp_path / "test_hook.py").write_text(HOOK_CHECK)
    outcome = run_preflight(
        "--redis-url", healthy_cluster.url, "--redis-url", plain_redis.url, "test_hook.py"
    )
    hooks = [c for c in outcome.summary["checks"] if "test_census_sees_every_primary" in c["id"]]
    primaries = sorted(f"127.0.0.1:{n.port}" for n in healthy_cluster.primaries())
    assert [c["message"] for c in hooks] == [
        "3 primaries: " + ", ".join(primaries),
        f"1 primaries: 127.0.0.1:{plain_redis.port}",
    ]


def test_cluster_replies_are_classified(healthy_cluster, partial_cluster):
    seed = healthy_cluster.nodes[0]
    elsewhere = next(f"key{i}" for i in range(100) if _moved(seed.port, f"key{i}"))
    with pytest.raises(redis.ResponseError) as moved:
        redis.Redis(port=seed.port).get(elsewhere)
    assert classify(moved.value, parse_target(seed.url)).fault is Fault.MOVED
    with pytest.raises(redis.ResponseError) as down:
        redis.Redis(port=partial_cluster.nodes[0].port).get("x")
    assert classify(down.value, parse_target(partial_cluster.url)).fault is Fault.CLUSTERDOWN


def _moved(port: int, key: str) -> bool:
    try:
        redis.Redis(port=port).get(key)
    except redis.ResponseError:
        return True
    return False
