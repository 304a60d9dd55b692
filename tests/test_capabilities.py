"""The commands table: each command the checks need, tried once, classified as the server answers."""

from __future__ import annotations

import pytest
import redis

from redis_preflight.config.target import parse_target
from redis_preflight.probes.capabilities import AVAILABLE, BLOCKED, FORBIDDEN, learn


@pytest.fixture(scope="module")
def restricted(redis_factory):
    return redis_factory(
        'rename-command SLOWLOG ""',
        "user default off",
        "user limited on >limited-pw ~* +@all -config -acl|dryrun",
    )


def test_available_blocked_and_forbidden(restricted):
    url = f"redis://limited:limited-pw@127.0.0.1:{restricted.port}/0"
    client = redis.Redis.from_url(url, protocol=2, socket_timeout=5)
    try:
        learned = learn(client, parse_target(url))
    finally:
        client.close()
    table = learned.as_dict()
    assert table["CONFIG GET"] == FORBIDDEN
    assert table["ACL DRYRUN"] == FORBIDDEN
    assert table["SLOWLOG GET"] == BLOCKED
    # CLUSTER INFO on a standalone server answers "cluster support disabled": it is available.
    assert {table[c] for c in ("INFO", "ACL GETUSER", "CLUSTER INFO", "SCAN", "DBSIZE")} == {AVAILABLE}
    assert learned.info is not None
    assert learned.info["redis_version"]
    forbidden = next(row for row in learned.rows if row.command == "CONFIG GET")
    assert "ACL SETUSER limited +config|get" in str(forbidden.diagnosis)
