"""Provider-shaped servers: a real redis-server with the provider's documented blocked commands
renamed away, behind a proxy that adds its INFO fields and speaks TLS where the provider does;
Redis Enterprise's reply shapes, which no local server gives."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from dataclasses import dataclass, field

import redis

from helpers.provider_proxy import ErrorReply, ProviderProxy
from helpers.tls import Pki
from redis_preflight.ephemeral.local_server import LocalRedis
from redis_preflight.providers import Provider
from redis_preflight.providers.catalog import AIVEN, AZURE, ELASTICACHE, MEMORYSTORE, REDIS_CLOUD

PASSWORD = "managed-pw"

# Redis Enterprise and Redis Cloud: each SLOWLOG entry has a complexity figure before its
# arguments (id, unix time, µs, complexity, arguments, client address, client name); ACL DRYRUN
# and ACL GETUSER do not know users an LDAP directory manages, though AUTH as them succeeds.
ENTERPRISE_REPLIES = {
    b"SLOWLOG GET": [
        [7, 1700000000, 25000, 1, [b"KEYS", b"*"], b"10.0.0.7:51234", b""],
        [6, 1700000000, 12000, 3, [b"GET", b"k:01"], b"10.0.0.7:51234", b""],
    ],
    b"ACL DRYRUN": ErrorReply("ERR unknown user"),
    b"ACL GETUSER": None,
}
HEALTHY_DB, DEFECTIVE_DB = 0, 1


@dataclass(frozen=True)
class Shape:
    provider: Provider
    info: dict[str, str] = field(default_factory=dict)
    # Options a user of this provider gives: --provider where neither host nor INFO tells.
    options: tuple[str, ...] = ()


SHAPES = {
    "elasticache": Shape(ELASTICACHE, {"os": "Amazon ElastiCache", "executable": "-", "config_file": "-"}),
    # Memorystore and Aiven are reached by private IP or a name INFO does not give away.
    "memorystore": Shape(MEMORYSTORE, options=("--provider", "memorystore")),
    "azure": Shape(AZURE, {"bytes_received_per_sec": "1024", "bytes_sent_per_sec": "2048"}),
    "redis-cloud": Shape(REDIS_CLOUD, {"rlec_version": "7.4.2-54"}),
    "aiven": Shape(AIVEN, options=("--provider", "aiven")),
}


def renamed_away(commands: frozenset[str]) -> list[str]:
    return [f'rename-command {command} ""' for command in sorted(commands)]


@dataclass
class ShapedServer:
    shape: Shape
    server: LocalRedis
    proxy: ProviderProxy
    pki: Pki

    @property
    def tls_ca_file(self) -> str:
        return str(self.pki.ca_file)

    def url(self, db: int) -> str:
        return f"rediss://:{PASSWORD}@127.0.0.1:{self.proxy.port}/{db}"


def start_shaped(redis_factory: Callable[..., LocalRedis], pki: Pki, shape: Shape) -> ShapedServer:
    """The provider's blocked set renamed away, a password, TLS in front (every shape here has it)."""
    server = redis_factory(
        f'requirepass "{PASSWORD}"',
        "maxmemory 256mb",
        "maxmemory-policy noeviction",
        *renamed_away(shape.provider.blocked),
    )
    cert = pki.issue(f"{shape.provider.key}-proxy")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert.cert, cert.key)
    proxy = ProviderProxy(server.port, shape.info, tls=context).start()
    return ShapedServer(shape, server, proxy, pki)


def direct(server: LocalRedis, db: int) -> redis.Redis:
    return redis.Redis(port=server.port, db=db, password=PASSWORD, protocol=2, socket_timeout=5)
