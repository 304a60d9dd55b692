"""Ask the server about itself: one INFO snapshot, CONFIG GET where allowed, SLOWLOG, anonymous access.

Managed services and least-privilege users may refuse CONFIG, SLOWLOG or even INFO. A refused
command is recorded as `Blocked` (the command and its classified diagnosis), never raised: the
checks then fall back to INFO fields or skip with a reason that names the command.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import redis

from redis_preflight.config.settings import PreflightSettings
from redis_preflight.config.target import Target
from redis_preflight.errors import classify
from redis_preflight.probes.client import open_client
from redis_preflight.probes.latency import slowlog_entry
from redis_preflight.probes.server.snapshot import Blocked, ServerSnapshot, SlowEntry

# Only these: CONFIG GET also answers requirepass and masterauth, which must never be read.
CONFIG_NAMES = ("maxmemory", "maxmemory-policy", "maxclients", "save", "appendonly", "protected-mode", "bind")
SLOWLOG_ENTRIES = 10
# Their first argument is a password (Redis 6.2+ redacts it in SLOWLOG; older servers may not).
HIDDEN_FIRST_ARGUMENT = {"AUTH"}


def take_snapshot(client: redis.Redis, target: Target) -> ServerSnapshot | Blocked:
    """One INFO, one pipelined round of CONFIG GET, one SLOWLOG GET; INFO refused is Blocked."""
    try:
        info = client.info()
    except redis.ResponseError as e:
        return Blocked("INFO", classify(e, target))
    config, config_blocked = _config(client, target)
    slowlog, slowlog_blocked = _slowlog(client, target)
    return ServerSnapshot(MappingProxyType(info), config, config_blocked, slowlog, slowlog_blocked)


def _config(client: redis.Redis, target: Target) -> tuple[Mapping[str, str], Blocked | None]:
    with client.pipeline(transaction=False) as pipe:
        for name in CONFIG_NAMES:
            pipe.config_get(name)
        answers = pipe.execute(raise_on_error=False)
    refused = next((a for a in answers if isinstance(a, redis.ResponseError)), None)
    if refused is not None:
        return MappingProxyType({}), Blocked("CONFIG GET", classify(refused, target))
    merged = {str(k): str(v) for answer in answers for k, v in answer.items()}
    return MappingProxyType(merged), None


def _slowlog(client: redis.Redis, target: Target) -> tuple[tuple[SlowEntry, ...], Blocked | None]:
    try:
        # The command spelled in two words bypasses redis-py's parser, which joins the arguments.
        raw = client.execute_command("SLOWLOG", "GET", SLOWLOG_ENTRIES)  # type: ignore[no-untyped-call]
    except redis.ResponseError as e:
        return (), Blocked("SLOWLOG GET", classify(e, target))
    return tuple(_slow_entry(entry) for entry in raw), None


def _slow_entry(raw: list[Any]) -> SlowEntry:
    entry = slowlog_entry(raw)
    words = entry.words
    command = words[0].upper() if words else "?"
    first = words[1][:40] if len(words) > 1 else ""
    return SlowEntry(
        started=int(entry.started),
        duration_us=entry.duration_us,
        command=command,
        first_argument="***" if first and command in HIDDEN_FIRST_ARGUMENT else first,
        more_arguments=max(len(words) - 2, 0),
        client=entry.client,
    )


@dataclass(frozen=True)
class AnonymousAccess:
    """Whether a client with no credentials at all is served."""

    allowed: bool | None  # None: could not tell
    seen: str


def anonymous_access(target: Target, settings: PreflightSettings) -> AnonymousAccess:
    """PING on a second connection without credentials (the verifier's own if it has none)."""
    if target.password is None:
        return AnonymousAccess(True, "the verifier itself connected with no credentials")
    anonymous = dataclasses.replace(target, username=None, password=None)
    client = open_client(anonymous, settings)
    try:
        client.ping()
    except redis.AuthenticationError:
        return AnonymousAccess(False, "a PING without credentials got NOAUTH")
    except redis.exceptions.NoPermissionError:
        # Let in but allowed nothing (the default user on, with -@all): refused all the same.
        return AnonymousAccess(False, "a PING without credentials got NOPERM")
    except (OSError, redis.RedisError) as e:
        return AnonymousAccess(None, f"a PING without credentials failed: {classify(e, target)}")
    finally:
        client.close()
    return AnonymousAccess(True, "a PING without credentials got PONG")
