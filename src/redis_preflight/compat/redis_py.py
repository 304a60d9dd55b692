"""redis-py internals the verifier relies on (redis >= 5, < 9: pyproject.toml bounds it).

- `Connection._sock`: redis-py offers no raw I/O, and the key census pipelines a million commands
  as bytes on the very socket redis-py connected, authenticated and SELECTed (probes/keys/resp.py).
- `redis._parsers.base.BaseParser.parse_error`: redis-py's own mapping of an error reply to its
  exception (NOPERM: NoPermissionError, ...), so a census error is the exception a redis-py call
  raises and is classified the same.
- `Connection._connect()`: redis-py has no hook on the bytes it reads, and its socket timeout is
  per read. Each connection class it may pick (TCP, TLS, unix) opens its socket there and its
  parser reads whatever `connect()` stored from it: returning a wrapped socket puts every read
  under the reply caps and deadlines (probes/bounds.py). The pool's `connection_class` and
  `connection_kwargs` are public.
- `RedisCluster.nodes_manager.slots_cache`: the slot map the cluster client built at start-up;
  the public `get_node_from_key` answers one key at a time.
- `Connection._command_packer`: `command_packer` is a public Connection argument, but RedisCluster
  passes no such argument to its nodes: a cluster node's connection gets the renaming packer set
  on it once connected (after its handshake).
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import redis
from redis._parsers.base import BaseParser
from redis.cluster import ClusterNode, RedisCluster
from redis.connection import Connection, SSLConnection, UnixDomainSocketConnection
from redis.exceptions import ConnectionError, ResponseError


def raw_socket(connection: Connection) -> socket.socket:
    """The socket of a connected redis-py connection (TLS-wrapped for rediss://)."""
    sock: socket.socket | None = connection._sock
    if sock is None:
        raise ConnectionError("the connection is not connected")
    return sock


def error_of(reply: str) -> ResponseError:
    """The exception redis-py raises for an error reply (`NOPERM ...`: NoPermissionError)."""
    error: ResponseError = BaseParser.parse_error(reply)  # type: ignore[no-untyped-call]
    return error


def slot_routes(cluster: RedisCluster) -> dict[int, list[ClusterNode]]:
    """Each served slot's nodes, the primary first, as the cluster client mapped them."""
    routes: dict[int, list[ClusterNode]] = cluster.nodes_manager.slots_cache
    return routes


def use_packer(packer: Any) -> Callable[[Connection], None]:
    """A `redis_connect_func` for RedisCluster: each node connection, once connected, packs every
    later command with `packer` (anything with redis-py's `pack(*args) -> list[bytes]`)."""

    def connected(connection: Connection) -> None:
        connection._command_packer = packer

    return connected


SocketWrapper = Callable[[Any, str], Any]  # (the connected socket, "host:port") -> what is read


class _Wrapped:
    """Mixed into a redis-py connection class: its socket comes wrapped by `wrap_socket`."""

    def __init__(self, *args: Any, wrap_socket: SocketWrapper, **kwargs: Any) -> None:
        self.wrap_socket = wrap_socket
        super().__init__(*args, **kwargs)

    def _connect(self) -> Any:
        sock = super()._connect()  # type: ignore[misc]
        path = getattr(self, "path", None)
        return self.wrap_socket(
            sock, str(path) if path else f"{getattr(self, 'host', '')}:{getattr(self, 'port', '')}"
        )


class WrappedConnection(_Wrapped, Connection):
    pass


class WrappedSSLConnection(_Wrapped, SSLConnection):
    pass


class WrappedUnixConnection(_Wrapped, UnixDomainSocketConnection):
    pass


_WRAPPED: dict[type[Any], type[Any]] = {
    Connection: WrappedConnection,
    SSLConnection: WrappedSSLConnection,
    UnixDomainSocketConnection: WrappedUnixConnection,
}


def wrap_sockets(client: redis.Redis, wrap_socket: SocketWrapper) -> redis.Redis:
    """Every connection `client` opens from now on reads through `wrap_socket(sock, peer)`."""
    pool = client.connection_pool
    pool.connection_class = _WRAPPED.get(pool.connection_class, pool.connection_class)
    if issubclass(pool.connection_class, _Wrapped):
        pool.connection_kwargs["wrap_socket"] = wrap_socket
    return client
