"""Hostile peers: a RESP proxy in front of a real redis-server that rewrites one command's reply,
and an HTTP server that misbehaves on purpose. No real server can be made to do these.

A rewrite is a function of the request (its words) and of the real reply (a callable that asks
the real server) returning what to send: bytes, or a number of seconds to wait, one after another.
"""

from __future__ import annotations

import itertools
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress

import hiredis

Reply = Iterable[bytes | float]
Rewrite = Callable[[list[bytes], Callable[[], bytes]], Reply]

MIB = 1 << 20


def _serve(handle: Callable[[socket.socket], None]) -> tuple[socket.socket, threading.Thread]:
    server = socket.create_server(("127.0.0.1", 0), backlog=64)

    def accept() -> None:
        while True:
            try:
                peer, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=_guarded, args=(handle, peer), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    return server, thread


def _guarded(handle: Callable[[socket.socket], None], peer: socket.socket) -> None:
    with peer, suppress(OSError):
        handle(peer)


def _send(peer: socket.socket, reply: Reply) -> None:
    for part in reply:
        if isinstance(part, bytes):
            peer.sendall(part)
        else:
            time.sleep(part)


class _Upstream:
    """One connection to the real server: a command in, its reply's exact bytes out."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.reader = hiredis.Reader()

    def ask(self, words: list[bytes]) -> bytes:
        self.sock.sendall(b"*%d\r\n" % len(words) + b"".join(b"$%d\r\n%b\r\n" % (len(w), w) for w in words))
        raw = bytearray()
        while True:
            data = self.sock.recv(1 << 16)
            if not data:
                raise ConnectionError("the real server hung up")
            raw += data
            self.reader.feed(data)
            if self.reader.gets() is not False:
                return bytes(raw)


@contextmanager
def resp_proxy(upstream_port: int, rewrites: dict[str, Rewrite]) -> Iterator[int]:
    """A port that relays to the real server, except for the commands in `rewrites`.

    Keys are command names ("PING", "CLUSTER NODES"); each connection relays in order.
    """

    def handle(peer: socket.socket) -> None:
        upstream = _Upstream(upstream_port)
        requests = hiredis.Reader()
        with upstream.sock:
            while data := peer.recv(1 << 16):
                requests.feed(data)
                while (words := requests.gets()) is not False:
                    name = words[0].upper().decode()
                    full = f"{name} {words[1].upper().decode()}" if len(words) > 1 else name
                    rewrite = rewrites.get(full) or rewrites.get(name)
                    if rewrite is None:
                        peer.sendall(upstream.ask(words))
                    else:
                        _send(peer, rewrite(words, lambda words=words: upstream.ask(words)))

    server, _ = _serve(handle)
    try:
        yield server.getsockname()[1]
    finally:
        server.close()


# --- rewrites: what the hostile peer answers instead ---


def endless_array(words: list[bytes], real: Callable[[], bytes]) -> Reply:
    """An array of 2^31-1 elements announced, then elements for ever."""
    yield b"*2147483647\r\n"
    while True:
        yield b":1\r\n" * 16384


def huge_bulk(size: int) -> Rewrite:
    """A string of `size` bytes, sent as fast as the peer takes it."""

    def reply(words: list[bytes], real: Callable[[], bytes]) -> Reply:
        yield b"$%d\r\n" % size
        block = b"x" * MIB
        for _ in range(size // MIB):
            yield block
        yield b"\r\n"

    return reply


def bulk_then_silence(words: list[bytes], real: Callable[[], bytes]) -> Reply:
    """A string of 2^40 bytes announced, then nothing at all."""
    yield b"$1099511627776\r\n"
    yield 3600.0


def trickle(words: list[bytes], real: Callable[[], bytes]) -> Reply:
    """The real reply, one byte a second."""
    for byte in real():
        yield bytes([byte])
        yield 1.0


def mget_larger_than_strlen(words: list[bytes], real: Callable[[], bytes]) -> Reply:
    """Each value of an MGET is 512 MiB, whatever STRLEN said."""
    yield b"*%d\r\n" % (len(words) - 1)
    for _ in words[1:]:
        yield from huge_bulk(512 * MIB)(words, real)


def cycling_cursor(words: list[bytes], real: Callable[[], bytes]) -> Reply:
    """SCAN never gets back to 0: the cursor goes 7, 9, 7, 9, ..."""
    cursor = b"9" if words[1] == b"7" else b"7"
    yield b"*2\r\n$1\r\n%b\r\n*1\r\n$12\r\nuser_session\r\n" % cursor


def loading(words: list[bytes], real: Callable[[], bytes]) -> Reply:
    yield b"-LOADING Redis is loading the dataset in memory\r\n"


def cluster_info(words: list[bytes], real: Callable[[], bytes]) -> Reply:
    text = (
        b"cluster_enabled:1\r\ncluster_state:ok\r\ncluster_slots_assigned:16384\r\ncluster_slots_ok:16384\r\n"
    )
    yield b"$%d\r\n%b\r\n" % (len(text), text)


def cluster_nodes(count: int) -> Rewrite:
    """CLUSTER NODES listing `count` primaries, each at its own (dead) loopback port."""

    def reply(words: list[bytes], real: Callable[[], bytes]) -> Reply:
        lines = (
            b"%040x 10.%d.%d.%d:6379@16379 %bmaster - 0 0 1 connected\n"
            % (n, n >> 16 & 255, n >> 8 & 255, n & 255, b"myself," if n == 0 else b"")
            for n in range(count)
        )
        text = b"".join(itertools.islice(lines, count))
        yield b"$%d\r\n%b\r\n" % (len(text), text)

    return reply


# --- the hostile HTTP server (the application's health endpoint) ---

DOCUMENT = b'{"status": "healthy", "version": "1.0.0", "services": {"redis": true}}'


def slow_headers(request: bytes) -> Reply:
    for byte in b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n":
        yield bytes([byte])
        yield 1.0


def slow_chunk_size(request: bytes) -> Reply:
    yield b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    while True:
        yield b"0"
        yield 1.0


def huge_body(request: bytes) -> Reply:
    yield b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % (500 * MIB)
    yield b'{"status": "'
    block = b"x" * MIB
    for _ in range(500):
        yield block


@contextmanager
def http_peer(answer: Callable[[bytes], Reply]) -> Iterator[int]:
    """An HTTP server that reads the request head, then sends what `answer` says."""

    def handle(peer: socket.socket) -> None:
        request = b""
        while b"\r\n\r\n" not in request:
            data = peer.recv(4096)
            if not data:
                return
            request += data
        _send(peer, answer(request))

    server, _ = _serve(handle)
    try:
        yield server.getsockname()[1]
    finally:
        server.close()
