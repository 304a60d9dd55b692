"""Redis 6 has no ACL DRYRUN: the rules judged client-side must agree with DRYRUN where it exists."""

from __future__ import annotations

import pytest
import redis

from redis_preflight.ephemeral.local_server import LocalRedis
from redis_preflight.probes import acl_rules
from redis_preflight.probes.auth import APP_COMMANDS, DANGEROUS

# Users as applications and operators write them: categories, commands, subcommands, key patterns.
USERS = {
    "all": "+@all ~*",
    "careful": "+@all -@dangerous +info ~*",
    "reader": "+@read +@connection ~*",
    "narrow": "-@all +get +set +expire +config|get ~user_session:* ~rate_limit:*",
    "writer": "+@write -flushall -flushdb ~goal_state:* ~blacklist:*",
    "admin-but": "+@all -config +config|get -debug -@keyspace +del +expire allkeys",
    "nothing": "nocommands resetkeys",
    "late-revoke": "allcommands -@write +set -set +incr ~*",
}
# The default contract's key prefixes.
PREFIXES = ("user_session:", "ws_connections:", "goal_state:", "blacklist:", "rate_limit:")
COMMANDS = [
    *DANGEROUS.values(),
    *(
        tuple(arg.format(key=f"{prefix}x", glob=f"{prefix}*") for arg in args)
        for prefix in PREFIXES
        for args in APP_COMMANDS.values()
    ),
]


@pytest.fixture(scope="module")
def redis_7(tmp_path_factory):
    """Debian's redis-server (7.0): the one line here with ACL DRYRUN, whatever line is under test."""
    users = [f"user {name} on nopass {rules}" for name, rules in USERS.items()]
    server = LocalRedis(tmp_path_factory.mktemp("acl"), users, binary="redis-server").start()
    yield redis.Redis(port=server.port, protocol=2)
    server.stop()


def dry_run(client: redis.Redis, user: str, args: tuple[str, ...]) -> bool:
    return client.execute_command("ACL", "DRYRUN", user, *args) in (b"OK", "OK")


@pytest.mark.parametrize("user", list(USERS))
def test_judged_rules_agree_with_acl_dryrun(redis_7, user):
    judged = acl_rules.judge(redis_7, user, COMMANDS)
    assert judged is not None
    disagree = [
        (" ".join(args), verdict)
        for args, verdict in zip(COMMANDS, judged, strict=True)
        if verdict != dry_run(redis_7, user, args)
    ]
    assert not disagree, f"{user} ({USERS[user]}): judged differently from ACL DRYRUN: {disagree}"


def test_a_command_renamed_away_is_allowed_to_nobody(tmp_path):
    server = LocalRedis(tmp_path, ['rename-command FLUSHALL ""']).start()
    try:
        client = redis.Redis(port=server.port, protocol=2)
        assert acl_rules.judge(client, "default", [("FLUSHALL",), ("GET", "k")]) == [False, True]
    finally:
        server.stop()


def test_an_unknown_user_is_none(redis_7):
    assert acl_rules.judge(redis_7, "nobody-here", [("GET", "k")]) is None
