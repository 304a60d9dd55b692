"""Real local topologies for the tests: Redis Cluster and Sentinel deployments on loopback ports."""

from __future__ import annotations

import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

import redis

from conftest import REDIS_6
from helpers.clients import wait_until
from redis_preflight.ephemeral.local_server import LocalRedis, free_port

# A short node timeout makes a stopped primary fail (and its replica take over) in about 2 s.
CLUSTER_DIRECTIVES = (
    "cluster-enabled yes",
    "cluster-config-file nodes.conf",
    "cluster-node-timeout 1000",
    # Replicas sync at once rather than after the default 5 s wait for more replicas.
    "repl-diskless-sync-delay 0",
)
SETTLE_TIMEOUT_S = 30.0


def client(server: LocalRedis) -> redis.Redis:
    return redis.Redis(port=server.port, protocol=2, decode_responses=True, socket_timeout=2)


@dataclass
class LocalCluster:
    nodes: list[LocalRedis]

    @property
    def url(self) -> str:
        return self.nodes[0].url

    def view(self, server: LocalRedis | None = None) -> dict[str, dict[str, object]]:
        """CLUSTER NODES as `server` (default: the first node) sees it."""
        with client(server or self.nodes[0]) as c:
            return dict(c.cluster("NODES"))

    def primaries(self) -> list[LocalRedis]:
        flags = {address: str(node["flags"]) for address, node in self.view().items()}
        return [n for n in self.nodes if "master" in flags[f"127.0.0.1:{n.port}"]]

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


def cluster_node(directory: Path, *directives: str) -> LocalRedis:
    port, bus = cluster_ports()
    bus_port = [f"cluster-port {bus}"] if bus != port + 10000 else []
    return LocalRedis(directory, [*CLUSTER_DIRECTIVES, *bus_port, *directives], port=port).start()


def cluster_ports() -> tuple[int, int]:
    """A port for a cluster node and its bus port. Redis 6 has no cluster-port: its bus is the
    port + 10000, so both must be free (and the port at most 55535); 7.0+ is given any free port."""
    if not REDIS_6:
        return free_port(), free_port()
    for _ in range(100):
        port = free_port()
        if port <= 55535:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                try:
                    probe.bind(("127.0.0.1", port + 10000))
                except OSError:
                    continue
            return port, port + 10000
    raise RuntimeError("no free port pair (port, port + 10000) for a Redis 6 cluster node")


def start_cluster(directory: Path, primaries: int = 3, replicas: int = 1, *directives: str) -> LocalCluster:
    """`redis-cli --cluster create` on fresh nodes; returns once every node agrees it is ok."""
    count = primaries * (1 + replicas)
    nodes = [cluster_node(directory / f"node{i}", *directives) for i in range(count)]
    cluster = LocalCluster(nodes)
    redis_cli = shutil.which("redis-cli") or "redis-cli"
    addresses = [f"127.0.0.1:{node.port}" for node in nodes]
    create = [redis_cli, "--cluster", "create", *addresses, "--cluster-replicas", str(replicas)]
    subprocess.run([*create, "--cluster-yes"], check=True, capture_output=True, timeout=60)
    wait_until(lambda: all(_settled(n, count, primaries) for n in nodes), "cluster settled", SETTLE_TIMEOUT_S)
    return cluster


def _settled(node: LocalRedis, count: int, primaries: int) -> bool:
    with client(node) as c:
        info = c.cluster("INFO")
        flags = [str(n["flags"]) for n in c.cluster("NODES").values()]
        replication = c.info("replication")
    serving = sum(1 for f in flags if "master" in f)
    # A replica that never finished its first sync refuses to take over: wait for the link.
    linked = replication["role"] == "master" or replication.get("master_link_status") == "up"
    return info["cluster_state"] == "ok" and len(flags) == count and serving == primaries and linked


def start_single_node_cluster(directory: Path, last_slot: int = 16383, *directives: str) -> LocalCluster:
    """One node owning slots 0..last_slot; it announces 127.0.0.1 (a lone node knows no IP)."""
    node = cluster_node(directory, "cluster-announce-ip 127.0.0.1", *directives)
    with client(node) as c:
        c.execute_command("CLUSTER", "ADDSLOTS", *range(last_slot + 1))  # ADDSLOTSRANGE is 7.0+
        expected = "ok" if last_slot == 16383 else "fail"
        wait_until(
            lambda: c.cluster("INFO")["cluster_state"] == expected,
            f"lone node {expected}",
            timeout=SETTLE_TIMEOUT_S,
        )
    return LocalCluster([node])


def stop_primary_and_wait_failover(cluster: LocalCluster) -> LocalRedis:
    """Stop a primary other than the seed; return once the seed flags it fail and a replica took over."""
    stopped = next(n for n in cluster.primaries() if n is not cluster.nodes[0])
    stopped.stop()
    address = f"127.0.0.1:{stopped.port}"

    def failed_over() -> bool:
        node = cluster.view()[address]
        with client(cluster.nodes[0]) as c:
            ok = c.cluster("INFO")["cluster_state"] == "ok"
        return ok and "fail" in str(node["flags"]).split(",") and not node["slots"]

    wait_until(failed_over, f"failover of {address}", timeout=SETTLE_TIMEOUT_S)
    return stopped


@dataclass
class LocalSentinels:
    """Sentinels watching `service` on a primary; `url` is the redis+sentinel URL naming them all."""

    service: str
    sentinels: list[LocalRedis]

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{s.port}" for s in self.sentinels)
        return f"redis+sentinel://{hosts}/{self.service}/0"


def start_sentinels(
    directory: Path, service: str, primary: LocalRedis, replicas: int, count: int = 3
) -> LocalSentinels:
    """`count` sentinels, quorum 2; returns once each knows the others and the replicas."""
    directives = [
        f"sentinel monitor {service} 127.0.0.1 {primary.port} 2",
        f"sentinel down-after-milliseconds {service} 1000",
    ]
    sentinels = [
        LocalRedis(directory / f"sentinel{i}", directives, sentinel=True).start() for i in range(count)
    ]

    def acquainted(sentinel: LocalRedis) -> bool:
        with client(sentinel) as c:
            state = c.sentinel_master(service, return_responses=True)
        return isinstance(state, dict) and (state["num-other-sentinels"], state["num-slaves"]) == (
            count - 1,
            replicas,
        )

    wait_until(
        lambda: all(acquainted(s) for s in sentinels), f"sentinels of {service} acquainted", SETTLE_TIMEOUT_S
    )
    return LocalSentinels(service, sentinels)


def lose_quorum(group: LocalSentinels) -> None:
    """Stop all sentinels but the first; return once it reports NOQUORUM."""
    for sentinel in group.sentinels[1:]:
        sentinel.stop()

    def no_quorum() -> bool:
        with client(group.sentinels[0]) as c:
            try:
                c.sentinel_ckquorum(group.service)
            except redis.ResponseError as e:
                return "NOQUORUM" in str(e)
        return False

    wait_until(no_quorum, f"{group.service} lost its quorum", timeout=SETTLE_TIMEOUT_S)
