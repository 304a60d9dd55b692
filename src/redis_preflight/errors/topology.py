"""The wording of Redis Cluster and Sentinel failures."""

from __future__ import annotations

import re
from dataclasses import replace

from redis_preflight.config.target import Target
from redis_preflight.errors.faults import Diagnosis, Fault, _first_line, _Say


def _topology_diagnosis(upper: str, text: str, diagnosis: _Say) -> Diagnosis | None:
    """Replies only a Redis Cluster or a Sentinel gives."""
    if "SELECT IS NOT ALLOWED IN CLUSTER MODE" in upper:
        return diagnosis(Fault.CLUSTER_DB, "Redis Cluster has no other db: use /0 in REDIS_URL")
    if "CLUSTERDOWN" in upper:
        return diagnosis(
            Fault.CLUSTERDOWN,
            "the cluster refuses commands because hash slots are not served; check cluster_state "
            "(CLUSTER INFO) and the failing nodes (CLUSTER NODES), then redis-cli --cluster fix",
        )
    if upper.startswith("MOVED") or " MOVED " in f" {upper} ":
        return diagnosis(
            Fault.MOVED,
            f"the key lives on another cluster node ({_first_line(text)}); the application "
            "needs a cluster client (redis.cluster.RedisCluster), not a plain one",
        )
    if "NOQUORUM" in upper:
        return diagnosis(
            Fault.NOQUORUM,
            f"{_first_line(text).removeprefix('NOQUORUM ')}: no automatic failover is possible; "
            "start the missing sentinels or fix their network (SENTINEL CKQUORUM on each)",
        )
    # 7.0+ quotes the command 'SENTINEL', Redis 6 `SENTINEL`.
    if "UNKNOWN COMMAND 'SENTINEL'" in upper or "UNKNOWN COMMAND `SENTINEL`" in upper:
        return diagnosis(
            Fault.NOT_SENTINEL,
            "this port answers as a plain Redis server; the URL's hosts must be the sentinels' "
            "(usually port 26379)",
        )
    if "NO SUCH MASTER WITH THAT NAME" in upper:
        return diagnosis(
            Fault.SENTINEL_UNKNOWN_SERVICE,
            "this sentinel monitors no primary by the URL's service name; check the name "
            "(SENTINEL MASTERS lists them)",
        )
    return None


# redis-py names the node it failed to reach: "Error 111 connecting to 10.0.0.5:6379."
_CONNECTING_TO = re.compile(r"connecting to (\S+):(\d+)\.")


def _other_node(text: str, target: Target) -> Target | None:
    match = _CONNECTING_TO.search(text)
    if match is None or target.is_unix:
        return None
    host, port = match.group(1).strip("[]"), int(match.group(2))
    if (host, port) == (target.host, target.port):
        return None
    return replace(target, host=host, port=port, sentinels=None)


# A node the verifier cannot reach at all, as opposed to one that answers and refuses.
_TRANSPORT = (Fault.DNS, Fault.REFUSED, Fault.CONNECT_TIMEOUT, Fault.TLS_TO_PLAINTEXT)


def unreachable_node(
    diagnosis: Diagnosis, address: str, cluster_flag: str | None, *, translated: bool = True
) -> Diagnosis:
    """A cluster node the verifier failed to reach, worded by what the cluster thinks of it.

    `cluster_flag` is "fail" or "pfail" when the cluster itself sees the node failing.
    `translated` is False when the seed announces the very address it was reached at: then the
    cluster's addresses are the ones clients use, and an unreachable node is down, not NAT'd.
    """
    if diagnosis.fault not in _TRANSPORT:
        return diagnosis
    seen = diagnosis.fault.value
    if cluster_flag is None and not translated:
        return Diagnosis(
            Fault.NODE_DOWN,
            f"{seen} at {address}: the node is down (the cluster does not flag it yet, and announces "
            "the very addresses clients reach); restart it, or fail its slots over to a replica",
        )
    if cluster_flag is not None:
        return Diagnosis(
            Fault.NODE_DOWN,
            f"node down at {address}: {seen} here, and the cluster flags it {cluster_flag} too; "
            "restart it, or replace it and CLUSTER FORGET its id on every node",
        )
    return Diagnosis(
        Fault.ANNOUNCED_UNREACHABLE,
        f"announced address unreachable at {address}: the cluster sends clients there but this "
        f"machine gets {seen}; a NAT or container address? set cluster-announce-ip/-port "
        "(or cluster-announce-hostname) to an address clients can reach",
    )


def sentinel_failure(service: str, hosts: str, answered: bool, first_failure: Diagnosis | None) -> Diagnosis:
    """No primary address from the sentinels: none answered, or none knows the service."""
    if not answered:
        return Diagnosis(
            Fault.SENTINEL_UNREACHABLE,
            f"no sentinel answered at {hosts} ({first_failure}); check the sentinel hosts and ports "
            "in the URL, and that redis-sentinel runs there",
        )
    return Diagnosis(
        Fault.SENTINEL_UNKNOWN_SERVICE,
        f"the sentinels at {hosts} know no primary named {service!r}; check the service name "
        "in the URL (SENTINEL MASTERS lists them)",
    )


def too_many_nodes(target: Target, listed: int, limit: int) -> Diagnosis:
    """CLUSTER NODES listed more nodes than the verifier will reach and check one by one."""
    return Diagnosis(
        Fault.REPLY_TOO_LARGE,
        f"CLUSTER NODES reply from {target.address} lists {listed:,} nodes, over {limit:,} "
        "(--max-cluster-nodes): Redis Cluster is designed for up to 1,000",
    )
