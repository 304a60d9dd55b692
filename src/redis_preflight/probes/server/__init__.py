"""Ask the server about itself: one INFO snapshot, CONFIG GET where allowed, anonymous access.

Managed services and least-privilege users may refuse CONFIG, SLOWLOG or even INFO. A refused
command is recorded as `Blocked` (the command and its classified diagnosis), never raised: the
checks then fall back to INFO fields or skip with a reason that names the command.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import redis

from redis_preflight.config.settings import PreflightSettings
from redis_preflight.config.target import Target
from redis_preflight.errors import classify
from redis_preflight.probes.client import open_client
from redis_preflight.probes.latency import SlowLog
from redis_preflight.probes.server.snapshot import Blocked, ServerSnapshot

# Only these: CONFIG GET also answers requirepass and masterauth, which must never be read.
CONFIG_NAMES = ("maxmemory", "maxmemory-policy", "maxclients", "save", "appendonly", "protected-mode", "bind")


def take_snapshot(client: redis.Redis, target: Target, slowlog: SlowLog) -> ServerSnapshot | Blocked:
    """One INFO, one pipelined round of CONFIG GET, beside the run's SLOWLOG; INFO refused is Blocked."""
    try:
        info = client.info()
    except redis.ResponseError as e:
        return Blocked("INFO", classify(e, target))
    config, config_blocked = _config(client, target)
    return ServerSnapshot(MappingProxyType(info), config, config_blocked, slowlog)


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


@dataclass(frozen=True)
class AnonymousAccess:
    """Whether a client with no credentials at all is served."""

    allowed: bool | None  # None: could not tell
    seen: str

    @property
    def refused(self) -> bool:
        """Clients without credentials are refused: nothing is exposed to them."""
        return self.allowed is False


def anonymous_access(target: Target, settings: PreflightSettings) -> AnonymousAccess:
    """PING on a second connection without credentials (the verifier's own if it has none)."""
    if not target.has_credentials:
        return AnonymousAccess(True, "the verifier itself connected with no credentials")
    anonymous = dataclasses.replace(target, username=None, password=None, token=None)
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
