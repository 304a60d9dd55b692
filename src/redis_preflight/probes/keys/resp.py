"""Pipelined RESP on a connection redis-py opened (TLS, AUTH and SELECT already done).

The census sends a million commands and reads a million replies. redis-py's pipeline costs
several microseconds of Python per command; building the requests as bytes here and parsing
the replies with hiredis directly costs well under one.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import chain, repeat
from typing import Any

import hiredis
import redis
from redis.connection import Connection
from redis.exceptions import ConnectionError, ResponseError

from redis_preflight.compat.redis_py import error_of, raw_socket
from redis_preflight.probes.bounds import GuardedSocket

READ_CHUNK = 1 << 18
_INCOMPLETE = object()  # hiredis' default, False, equals the reply 0 and would stop iter()
_BULK = b"$%d\r\n%b\r\n"
_PTTL = b"*2\r\n$4\r\nPTTL\r\n"


def command(*args: bytes | int) -> bytes:
    parts = [arg if isinstance(arg, bytes) else str(arg).encode() for arg in args]
    return b"*%d\r\n" % len(parts) + b"".join([_BULK % (len(part), part) for part in parts])


def bulks(keys: list[bytes]) -> list[bytes]:
    """Each key as a RESP bulk string, built once and reused by every command about it."""
    return [_BULK % (len(k), k) for k in keys]


def pttl_length(verb: bytes, bulk_keys: list[bytes]) -> bytes:
    """PTTL and the length (STRLEN, HLEN, ZCARD, ...) of every key, in that order: two replies each."""
    length = b"*2\r\n$%d\r\n%b\r\n" % (len(verb), verb)
    return b"".join(chain.from_iterable(zip(repeat(_PTTL), bulk_keys, repeat(length), bulk_keys)))


def mget(bulk_keys: list[bytes]) -> bytes:
    return b"*%d\r\n$4\r\nMGET\r\n" % (len(bulk_keys) + 1) + b"".join(bulk_keys)


def each(verb: tuple[bytes, ...], keys: list[bytes]) -> bytes:
    """One command per key (TYPE, MEMORY USAGE): for the few keys that need it."""
    return b"".join([command(*verb, k) for k in keys])


class RespPipe:
    """Send many commands in one write; read their replies one by one, errors as values."""

    def __init__(self, connection: Connection) -> None:
        # The socket redis-py connected, authenticated and SELECTed, with its timeouts; nothing
        # else reads it while the census runs. Error replies become redis-py's own exceptions.
        sock = raw_socket(connection)
        # Opened by the run's client: a GuardedSocket, holding each reply to its caps and deadline.
        self._guarded: GuardedSocket | None = sock.unstructured() if isinstance(sock, GuardedSocket) else None
        self._sock: socket.socket = sock
        self._reader: hiredis.Reader = hiredis.Reader(replyError=error_of, notEnoughData=_INCOMPLETE)
        self._ready: list[Any] = []  # replies parsed and not yet taken

    def send(self, payload: bytes) -> None:
        self._sock.sendall(payload)

    def read(self) -> Any:
        return self.read_many(1)[0]

    @property
    def peer(self) -> str:
        return self._guarded.guard.peer if self._guarded is not None else "the server"

    def read_within(self, limit: int) -> Any:
        """The next reply, refused (ReplyTooLarge) once it runs past `limit` bytes; a reply
        read with other replies in the same chunk may cross it by one chunk unseen."""
        if self._guarded is None:
            return self.read()
        with self._guarded.guard.capped(limit + READ_CHUNK):
            return self.read()

    def read_many(self, count: int) -> list[Any]:
        """The next `count` replies; hiredis parses all it can per call, without a Python loop."""
        while len(self._ready) < count:
            before = len(self._ready)
            self._ready += iter(self._reader.gets, _INCOMPLETE)
            if self._guarded is not None and len(self._ready) > before:
                self._guarded.replies_done()
            if len(self._ready) < count:
                self._receive()
        replies, self._ready = self._ready[:count], self._ready[count:]
        return replies

    def _receive(self) -> None:
        data = self._sock.recv(READ_CHUNK)
        if not data:
            raise ConnectionError("the server closed the connection mid-reply")
        self._reader.feed(data)

    def call(self, *args: bytes | int) -> Any:
        """One command, one round trip; an error reply is raised."""
        self.send(command(*args))
        reply = self.read()
        if isinstance(reply, ResponseError):
            raise reply
        return reply


@contextmanager
def open_pipe(client: redis.Redis) -> Iterator[RespPipe]:
    """A connection of the pipe's own from the client's pool, closed whatever happens."""
    pool = client.connection_pool
    connection = pool.get_connection()
    try:
        yield RespPipe(connection)
    finally:
        # Read raw, the connection's own parser does not know where the stream stands.
        connection.disconnect()  # type: ignore[no-untyped-call]
        pool.release(connection)
