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
from redis_preflight.config.renamed import CommandNames
from redis_preflight.probes.bounds import GuardedSocket
from redis_preflight.probes.client import command_names

READ_CHUNK = 1 << 18
_INCOMPLETE = object()  # hiredis' default, False, equals the reply 0 and would stop iter()
_BULK = b"$%d\r\n%b\r\n"


def _arguments(args: tuple[bytes | int, ...]) -> bytes:
    parts = [arg if isinstance(arg, bytes) else str(arg).encode() for arg in args]
    return b"".join([_BULK % (len(part), part) for part in parts])


def bulks(keys: list[bytes]) -> list[bytes]:
    """Each key as a RESP bulk string, built once and reused by every command about it."""
    return [_BULK % (len(k), k) for k in keys]


class Wire:
    """Commands as RESP bytes, each named as the server knows it (--renamed-command, through the
    run's one map, config.renamed.CommandNames). Each verb's bulk is built once per pipe; the
    headers before the keys' bulks cost what the literal bytes did."""

    def __init__(self, names: CommandNames | None = None) -> None:
        self.names = names or CommandNames()
        self._verbs: dict[bytes, bytes] = {}

    def verb(self, verb: bytes) -> bytes:
        """`verb` as a RESP bulk string, under its new name when the server renamed it."""
        bulk = self._verbs.get(verb)
        if bulk is None:
            wire = self.names.wire(verb)
            bulk = self._verbs[verb] = _BULK % (len(wire), wire)
        return bulk

    def head(self, verb: bytes, words: int) -> bytes:
        """The start of a command of `words` words (the verb's included): its bulks follow."""
        return b"*%d\r\n" % words + self.verb(verb)

    def command(self, verb: bytes, *args: bytes | int) -> bytes:
        return self.head(verb, len(args) + 1) + _arguments(args)

    def pttl_length(self, verb: bytes, bulk_keys: list[bytes]) -> bytes:
        """PTTL and the length (STRLEN, HLEN, ZCARD, ...) of every key, in that order: two replies each."""
        pttl, length = self.head(b"PTTL", 2), self.head(verb, 2)
        return b"".join(chain.from_iterable(zip(repeat(pttl), bulk_keys, repeat(length), bulk_keys)))

    def mget(self, bulk_keys: list[bytes]) -> bytes:
        return self.head(b"MGET", len(bulk_keys) + 1) + b"".join(bulk_keys)

    def each(self, verb: tuple[bytes, ...], keys: list[bytes]) -> bytes:
        """One command per key (TYPE, MEMORY USAGE): for the few keys that need it."""
        return b"".join([self.command(*verb, k) for k in keys])


class RespPipe:
    """Send many commands in one write; read their replies one by one, errors as values."""

    def __init__(self, connection: Connection, names: CommandNames | None = None) -> None:
        # The socket redis-py connected, authenticated and SELECTed, with its timeouts; nothing
        # else reads it while the census runs. Error replies become redis-py's own exceptions.
        sock = raw_socket(connection)
        # Opened by the run's client: a GuardedSocket, holding each reply to its caps and deadline.
        self._guarded: GuardedSocket | None = sock.unstructured() if isinstance(sock, GuardedSocket) else None
        self._sock: socket.socket = sock
        self._reader: hiredis.Reader = hiredis.Reader(replyError=error_of, notEnoughData=_INCOMPLETE)
        self._ready: list[Any] = []  # replies parsed and not yet taken
        self.wire = Wire(names)  # every command sent on this pipe is built by it

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

    def call(self, verb: bytes, *args: bytes | int) -> Any:
        """One command, one round trip; an error reply is raised."""
        self.send(self.wire.command(verb, *args))
        reply = self.read()
        if isinstance(reply, ResponseError):
            raise reply
        return reply


@contextmanager
def open_pipe(client: redis.Redis) -> Iterator[RespPipe]:
    """A connection of the pipe's own from the client's pool, closed whatever happens; its
    commands are renamed by the client's own map (probes.client.open_client)."""
    pool = client.connection_pool
    connection = pool.get_connection()
    try:
        yield RespPipe(connection, command_names(client))
    finally:
        # Read raw, the connection's own parser does not know where the stream stands.
        connection.disconnect()  # type: ignore[no-untyped-call]
        pool.release(connection)
