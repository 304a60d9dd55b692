"""What the server lets the verifier do, learned once per run: each command the checks need,
tried once in one pipelined round trip, read-only and keyless.

A command is available (it answered, even "cluster support disabled"), blocked (unknown
command: renamed away, disabled by the provider, or too new for this server), or forbidden
(NOPERM: the user's ACL). report.html shows the table; checks that could not run point at it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import redis

from redis_preflight.config.target import Target
from redis_preflight.errors import Diagnosis, Fault, classify

AVAILABLE, BLOCKED, FORBIDDEN, FAILED = "available", "blocked", "forbidden", "error"


@dataclass(frozen=True)
class Need:
    """A command some checks need, how it is tried, and what stands in when it is refused."""

    command: str
    trial: tuple[str, ...]
    used_for: str
    fallback: str = ""


def needs(user: str) -> tuple[Need, ...]:
    return (
        # "INFO default" is INFO's own default; spelled out, it tells this INFO from the snapshot's.
        Need("INFO", ("INFO", "default"), "the server area, the provider's name", ""),
        Need(
            "CONFIG GET",
            ("CONFIG", "GET", "maxmemory"),
            "maxmemory, maxmemory-policy, maxclients, save rules, protected-mode, bind",
            "INFO maxmemory, maxmemory_policy, maxclients (7.0+), aof_enabled, rdb_* fields; "
            "the provider's guarantees for the rest",
        ),
        Need("SLOWLOG GET", ("SLOWLOG", "GET", "0"), "slow commands (latency, server snapshot)"),
        Need(
            "ACL DRYRUN",
            ("ACL", "DRYRUN", user, "PING"),
            "the user's rights (dangerous commands, the application's commands)",
            "the provider's user model, where it has one",
        ),
        Need("ACL GETUSER", ("ACL", "GETUSER", user), "the user's rules, shown beside its rights"),
        Need("CLUSTER INFO", ("CLUSTER", "INFO"), "the cluster checks", "INFO cluster_enabled"),
        Need("SCAN", ("SCAN", "0", "COUNT", "1"), "the key census"),
        Need("DBSIZE", ("DBSIZE",), "the key census's estimate of keys not examined"),
    )


@dataclass(frozen=True)
class Capability:
    need: Need
    status: str
    diagnosis: Diagnosis | None = None

    @property
    def command(self) -> str:
        return self.need.command


@dataclass(frozen=True)
class Capabilities:
    """One row per command the checks need; `info` is the INFO reply, when allowed."""

    rows: tuple[Capability, ...]
    info: Mapping[str, Any] | None

    def status(self, command: str) -> str:
        return next((row.status for row in self.rows if row.command == command), FAILED)

    def refused(self) -> tuple[Capability, ...]:
        return tuple(row for row in self.rows if row.status != AVAILABLE)

    def as_dict(self) -> dict[str, str]:
        return {row.command: row.status for row in self.rows}


def learn(client: redis.Redis, target: Target) -> Capabilities:
    """Each needed command tried once, in one round trip; nothing is raised for a refusal."""
    wanted = needs(target.username or "default")
    with client.pipeline(transaction=False) as pipe:
        for need in wanted:
            pipe.execute_command(*need.trial)  # type: ignore[no-untyped-call]
        replies = pipe.execute(raise_on_error=False)
    rows = tuple(_row(need, reply, target) for need, reply in zip(wanted, replies, strict=True))
    info = replies[0] if isinstance(replies[0], Mapping) else None
    return Capabilities(rows, info)


def _row(need: Need, reply: Any, target: Target) -> Capability:
    if not isinstance(reply, redis.RedisError):
        return Capability(need, AVAILABLE)
    if "CLUSTER SUPPORT DISABLED" in str(reply).upper():
        return Capability(need, AVAILABLE)  # it answered: this server is simply not a cluster node
    diagnosis = classify(reply, target, stage="check")
    if diagnosis.fault is Fault.NOPERM:
        return Capability(need, FORBIDDEN, diagnosis)
    if diagnosis.fault is Fault.UNKNOWN_COMMAND:
        return Capability(need, BLOCKED, diagnosis)
    return Capability(need, FAILED, diagnosis)
