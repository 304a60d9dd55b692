"""Sentinel end to end: a primary, a replica and sentinels started by the test session."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from helpers.topologies import LocalSentinels, lose_quorum, start_sentinels

from redis_preflight.ephemeral.local_server import LocalRedis, free_port

pytestmark = pytest.mark.xdist_group("sentinel")


@pytest.fixture(scope="session")
def primary(redis_factory: Callable[..., LocalRedis]) -> LocalRedis:
    return redis_factory("repl-diskless-sync-delay 0")


@pytest.fixture(scope="session")
def replica(redis_factory: Callable[..., LocalRedis], primary: LocalRedis) -> LocalRedis:
    return redis_factory(f"replicaof 127.0.0.1 {primary.port}")


@pytest.fixture(scope="session")
def sentinels(tmp_path_factory, primary, replica) -> Iterator[LocalSentinels]:
    """Three sentinels watching `mymaster`, quorum 2."""
    group = start_sentinels(tmp_path_factory.mktemp("sentinels"), "mymaster", primary, replicas=1)
    yield group
    for sentinel in group.sentinels:
        sentinel.stop()


@pytest.fixture(scope="session")
def lost_quorum(tmp_path_factory, primary, replica) -> Iterator[LocalSentinels]:
    """Three sentinels watching the same primary as `lostmaster`; two of them then stopped."""
    group = start_sentinels(tmp_path_factory.mktemp("lost-quorum"), "lostmaster", primary, replicas=1)
    lose_quorum(group)
    yield group
    group.sentinels[0].stop()


def test_sentinel_target_verifies_the_primary_it_names(run_preflight, sentinels, primary, replica):
    outcome = run_preflight(
        "--redis-url", sentinels.url, "--profile", "production", "--only", "connection,cluster,sentinel"
    )
    assert outcome.returncode == 0, outcome.output
    assert outcome.summary["target"] == sentinels.url
    assert outcome.check("test_tcp_connect")["message"].startswith(f"connected to 127.0.0.1:{primary.port}")
    assert outcome.check("test_ping")["outcome"] == "passed"
    known = outcome.check("test_sentinel_primary_known")
    assert known["message"] == f"mymaster is 127.0.0.1:{primary.port}, named by 3 of 3 sentinels"
    assert outcome.check("test_sentinel_quorum")["message"] == "SENTINEL CKQUORUM mymaster: OK on 3 sentinels"
    replicas = outcome.check("test_sentinel_replicas")["message"]
    assert replicas.startswith(f"1 replica(s) listed: 127.0.0.1:{replica.port} (slave, link ok)")
    assert f"primary 127.0.0.1:{primary.port}, named by the sentinels" in outcome.output
    assert outcome.check("test_cluster_state_ok")["message"].startswith("not a Redis Cluster")


def test_lost_quorum(run_preflight, lost_quorum):
    outcome = run_preflight("--redis-url", lost_quorum.url, "--connect-timeout", "1")
    assert outcome.returncode == 1
    quorum = outcome.check("test_sentinel_quorum")
    assert (quorum["outcome"], quorum["severity"]) == ("failed", "blocking")
    assert quorum["message"].startswith(
        f"NOQUORUM at 127.0.0.1:{lost_quorum.sentinels[0].port}: 1 usable Sentinels"
    )
    reachable = outcome.check("test_sentinels_reachable")["message"]
    assert reachable.startswith("2 of 3 sentinels do not answer: connection refused at 127.0.0.1:")
    # The one sentinel left still names the primary: the data checks run.
    assert outcome.check("test_ping")["outcome"] == "passed"


def test_unknown_service_name(run_preflight, sentinels):
    outcome = run_preflight("--redis-url", sentinels.url.replace("/mymaster/", "/nosuch/"))
    assert outcome.returncode == 1
    hosts = sentinels.url.removeprefix("redis+sentinel://").split("/")[0]
    expected = f"the sentinels at {hosts} know no primary named 'nosuch'"
    assert outcome.check("test_dns_resolves")["message"].startswith(expected)
    assert outcome.check("test_sentinel_primary_known")["message"].startswith(expected)
    assert outcome.check("test_ping")["message"].startswith(f"target unreachable: {expected}")


def test_no_sentinel_answers(run_preflight, primary):
    dead = free_port()
    outcome = run_preflight("--redis-url", f"redis+sentinel://127.0.0.1:{dead},127.0.0.1:{primary.port}/m/0")
    assert outcome.returncode == 1
    message = outcome.check("test_dns_resolves")["message"]
    assert message.startswith(f"no sentinel answered at 127.0.0.1:{dead},127.0.0.1:{primary.port}")
    silent = outcome.check("test_sentinels_reachable")["message"]
    assert f"not a sentinel at 127.0.0.1:{primary.port}: this port answers as a plain Redis server" in silent


def test_fewer_replicas_than_wanted(run_preflight, sentinels):
    outcome = run_preflight("--redis-url", sentinels.url, "--min-replicas", "2")
    assert outcome.returncode == 1
    assert outcome.check("test_sentinel_replicas")["message"].startswith(
        "1 working replica(s) of mymaster, below the 2 wanted"
    )


def test_sentinel_url_password_never_shown(run_preflight, sentinels):
    url = sentinels.url.replace("redis+sentinel://", "redis+sentinel://app:s3cret-Pw@")
    outcome = run_preflight("--redis-url", url, "-v")
    assert outcome.returncode == 1  # the primary has no such user
    assert outcome.check("test_authenticated")["message"].startswith("WRONGPASS at")
    assert "s3cret-Pw" not in outcome.outputs()
    assert outcome.summary["target"] == url.replace("s3cret-Pw", "***")
