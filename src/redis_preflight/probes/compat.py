"""The one place that reaches into redis-py's connection internals: the bounded socket.

redis-py offers no hook on the bytes it reads, and its socket timeout is per read. Every
connection class it may pick (TCP, TLS, unix) opens its socket in `_connect()`, and the parser
reads whatever `connect()` stored from it; returning a GuardedSocket there puts every read of
the connection (the parser's, and the census's raw reads) under the reply caps and deadlines.
tests/test_bounds.py pins this for the redis-py versions the dependency range allows.
"""

from __future__ import annotations

from typing import Any

import redis
from redis.connection import Connection, SSLConnection, UnixDomainSocketConnection

from redis_preflight.probes.bounds import GuardedSocket, ReplyLimits


class _Guarded:
    """Mixed into a redis-py connection class: its socket comes wrapped."""

    reply_limits: ReplyLimits

    def __init__(self, *args: Any, reply_limits: ReplyLimits, **kwargs: Any) -> None:
        self.reply_limits = reply_limits
        super().__init__(*args, **kwargs)

    def _connect(self) -> Any:
        sock = super()._connect()  # type: ignore[misc]
        return GuardedSocket(sock, self.reply_limits, _peer(self))


class GuardedConnection(_Guarded, Connection):
    pass


class GuardedSSLConnection(_Guarded, SSLConnection):
    pass


class GuardedUnixConnection(_Guarded, UnixDomainSocketConnection):
    pass


_GUARDED: dict[type[Any], type[Any]] = {
    Connection: GuardedConnection,
    SSLConnection: GuardedSSLConnection,
    UnixDomainSocketConnection: GuardedUnixConnection,
}


def guard(client: redis.Redis, limits: ReplyLimits) -> redis.Redis:
    """Bound every connection `client` opens from now on (the pool's class and kwargs are public)."""
    pool = client.connection_pool
    pool.connection_class = _GUARDED.get(pool.connection_class, pool.connection_class)
    if issubclass(pool.connection_class, _Guarded):
        pool.connection_kwargs["reply_limits"] = limits
    return client


def _peer(connection: Any) -> str:
    path = getattr(connection, "path", None)
    if path:
        return str(path)
    return f"{connection.host}:{connection.port}"
