"""redis-py internals the verifier relies on (redis >= 5, < 9: pyproject.toml bounds it).

- `Connection._sock`: redis-py offers no raw I/O, and the key census pipelines a million commands
  as bytes on the very socket redis-py connected, authenticated and SELECTed (probes/keys/resp.py).
- `redis._parsers.base.BaseParser.parse_error`: redis-py's own mapping of an error reply to its
  exception (NOPERM: NoPermissionError, ...), so a census error is the exception a redis-py call
  raises and is classified the same.
- `RedisCluster.nodes_manager.slots_cache`: the slot map the cluster client built at start-up;
  the public `get_node_from_key` answers one key at a time.
"""

from __future__ import annotations

import socket

from redis._parsers.base import BaseParser
from redis.cluster import ClusterNode, RedisCluster
from redis.connection import Connection
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
