"""Bounds on every exchange with a peer: a deadline for each whole reply, size caps, the run's deadline.

Enforced below any RESP parser, on the bytes as they arrive: a socket wrapper scans the RESP
structure (headers only; bulk payloads are skipped by their length) before redis-py's parser or
the census's hiredis reader sees them, so a reply that announces two billion elements or a
terabyte-long string is refused at its header, and one that trickles in is cut at its deadline.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from typing import Any

from redis_preflight.errors import ReplyDeadline, ReplyTooLarge, RunDeadlinePassed

MIB = 1 << 20
DEFAULT_MAX_REPLY_BYTES = 16 * MIB
# No Redis reply nests deeper than a few levels (XINFO STREAM FULL: 5); hiredis recurses per level.
MAX_DEPTH = 16
_AGGREGATES = frozenset(b"*%~>|")  # array, map, set, push, attribute
_PAIRS = frozenset(b"%|")  # a map's count is of pairs
_BULKS = frozenset(b"$=!")  # bulk string, verbatim string, bulk error
_MIN_ITEM_BYTES = 3  # "_\r\n": the shortest element an aggregate can hold
# A literal first byte lets the regex engine skip ahead: ~3 ns a byte, where "^" with MULTILINE costs 8x.
_HUGE_AGGREGATE = re.compile(rb"\n[*%~>|](\d{7,})\r")


def size(count: int) -> str:
    """16 MiB, 1.5 GiB, 512 bytes: a byte count the way a limit is given."""
    for unit, scale in (("TiB", MIB << 20), ("GiB", MIB << 10), ("MiB", MIB), ("KiB", 1 << 10)):
        if count >= scale:
            return f"{count / scale:.3g} {unit}"
    return f"{count:,} bytes"


@dataclass(frozen=True)
class ReplyLimits:
    """How big one reply may be and how long it may take to arrive, whole."""

    max_reply_bytes: int = DEFAULT_MAX_REPLY_BYTES
    reply_timeout_s: float = 5.0


class RunClock:
    """The run's deadline, shared by every connection of the process.

    One module-level clock because redis-py builds connections itself, from its own arguments,
    and a run is one process (one pytest session): every client it opens shares one deadline.
    """

    def __init__(self) -> None:
        self.seconds: float | None = None
        self.ends = float("inf")  # time.monotonic() when the run's deadline passes

    def start(self, seconds: float | None, started: float | None = None) -> None:
        """Count `seconds` from `started` (a time.monotonic() reading; default now)."""
        self.seconds = seconds
        begun = time.monotonic() if started is None else started
        self.ends = float("inf") if seconds is None else begun + seconds

    def remaining(self) -> float:
        return self.ends - time.monotonic()

    def check(self) -> None:
        if self.seconds is not None and self.remaining() <= 0:
            raise RunDeadlinePassed(self.seconds)


RUN_CLOCK = RunClock()


class RespGuard:
    """Follows the RESP structure of a byte stream: where each reply ends, and whether it is too big.

    Only headers cost a Python step; a bulk's payload is skipped by its announced length.
    """

    def __init__(self, limits: ReplyLimits, peer: str) -> None:
        self.limits = limits
        self.peer = peer
        self.command = "first"  # the command whose reply is awaited (see GuardedSocket.sendall)
        self._counts: list[int] = []  # elements still due at each open aggregate
        self._skip = 0  # payload bytes of a bulk still due, its CRLF included
        self._line = b""  # a header cut in two by a read
        self._tail = b"\n"  # unstructured: the last bytes read, for a header cut in two
        self._used = 0  # bytes of the reply being read, so far
        # Off for a reader that finds reply ends itself (the census's hiredis): bytes only.
        self.structured = True

    @property
    def idle(self) -> bool:
        """Between replies: nothing of the next one has arrived yet."""
        if not self.structured:
            return not self._used
        return not (self._counts or self._skip or self._line or self._used)

    def scan(self, data: bytes) -> int:
        """Account for `data`; returns how many replies it completed."""
        done, pos, end = 0, 0, len(data)
        max_bytes = self.limits.max_reply_bytes
        if not self.structured:
            self._used += end
            self._over(max_bytes, self._used > max_bytes)
            self._huge_aggregate(self._tail + data[:32], data, max_bytes)
            self._tail = data[-32:]
            return 0
        while pos < end:
            if self._skip:
                step = min(self._skip, end - pos)
                self._skip -= step
                self._used += step
                pos += step
                if not self._skip:
                    done += self._item_done()
                continue
            newline = data.find(b"\n", pos)
            if newline < 0:
                self._line += data[pos:]
                self._used += end - pos
                self._over(max_bytes, self._used > max_bytes)
                break
            line = self._line + data[pos:newline] if self._line else data[pos:newline]
            self._line = b""
            self._used += newline + 1 - pos
            if self._used > max_bytes:
                self._over(max_bytes, True)
            pos = newline + 1
            done += self._header(line, max_bytes)
        self._over(max_bytes, self._used > max_bytes)
        return done

    def _header(self, line: bytes, max_bytes: int) -> int:
        kind = line[0] if line else 0
        if kind not in _AGGREGATES and kind not in _BULKS:
            return self._item_done()
        try:
            length = int(line[1:])
        except ValueError:
            return self._item_done()  # not RESP: the parser says so
        if length <= 0:
            return self._item_done()
        left = max_bytes - self._used
        if kind in _BULKS:
            self._over(max_bytes, length > left, f"announced a {size(length)} string, over")
            self._skip = length + 2
            return 0
        count = length * 2 if kind in _PAIRS else length
        self._over(max_bytes, count * _MIN_ITEM_BYTES > left, f"announced {count:,} elements, over")
        if len(self._counts) >= MAX_DEPTH:
            raise ReplyTooLarge(
                self.command, self.peer, f"nested deeper than {MAX_DEPTH} levels", "no Redis reply does"
            )
        self._counts.append(count)
        return 0

    def _huge_aggregate(self, head: bytes, data: bytes, max_bytes: int) -> None:
        """Unstructured, an aggregate header of millions of elements is still refused before
        hiredis sees it: hiredis allocates the whole list at once, and freeing a list of
        2^31 slots takes a minute. Seen anywhere, even inside a string (a value holding
        "\n*9999999\r\n" would be refused too: no census reply carries that)."""
        for found in (_HUGE_AGGREGATE.search(head), _HUGE_AGGREGATE.search(data)):
            if found is not None and int(found[1]) * _MIN_ITEM_BYTES > max_bytes:
                raise ReplyTooLarge(
                    self.command,
                    self.peer,
                    f"announced {int(found[1]):,} elements, over {size(max_bytes)}",
                    "--max-reply-bytes",
                )

    def reset(self) -> None:
        self._used = 0

    @contextmanager
    def capped(self, limit: int) -> Iterator[None]:
        """A tighter cap for the replies read meanwhile: the caller knows how big they may be."""
        limits = self.limits
        self.limits = replace(limits, max_reply_bytes=min(limit, limits.max_reply_bytes))
        try:
            yield
        finally:
            self.limits = limits

    def _item_done(self) -> int:
        counts = self._counts
        while counts:
            counts[-1] -= 1
            if counts[-1]:
                return 0
            counts.pop()
        self._used = 0
        return 1

    def _over(self, max_bytes: int, crossed: bool, what: str = "exceeded") -> None:
        if crossed:
            raise ReplyTooLarge(self.command, self.peer, f"{what} {size(max_bytes)}", "--max-reply-bytes")


def command_name(payload: bytes) -> str:
    """The first command of a RESP request (`*2\\r\\n$4\\r\\nINFO\\r\\n...`), for messages."""
    parts = payload[:64].split(b"\r\n", 3)
    return parts[2].decode(errors="replace").upper() if len(parts) > 2 else "a"


class GuardedSocket:
    """A connected socket whose reads are scanned by a RespGuard and held to the reply's deadline.

    The deadline starts when a command is sent, or when the previous reply ends, and covers the
    whole reply; the socket's own timeout is shortened to what is left of it.
    """

    def __init__(
        self, sock: Any, limits: ReplyLimits, peer: str, renamed: dict[str, str] | None = None
    ) -> None:
        self._sock = sock
        self._renamed = renamed or {}  # wire name -> the command's own name (a new name is a secret)
        self._timeout = limits.reply_timeout_s
        self.guard = RespGuard(limits, peer)
        self._deadline = float("inf")
        self._applied: float | None = None  # the timeout the socket has now

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)

    def settimeout(self, timeout: float | None) -> None:
        self._timeout = self.guard.limits.reply_timeout_s if timeout is None else timeout
        self._sock.settimeout(timeout)
        self._applied = timeout

    def sendall(self, data: Any, *args: Any) -> None:
        if self.guard.idle:
            name = command_name(bytes(data[:64]))
            self.guard.command = self._renamed.get(name, name)
            self._deadline = time.monotonic() + self._timeout
        self._sock.sendall(data, *args)

    def send(self, data: Any, *args: Any) -> int:
        self.sendall(data, *args)
        return len(data)

    def recv(self, size: int, flags: int = 0) -> bytes:
        if flags & socket.MSG_PEEK:
            return bytes(self._sock.recv(size, flags))
        self._arm()
        data = bytes(self._read(self._sock.recv, size, *((flags,) if flags else ())))
        self._scanned(data)
        return data

    def recv_into(self, buffer: Any, *args: Any) -> int:
        self._arm()
        count = int(self._read(self._sock.recv_into, buffer, *args))
        if count:
            self._scanned(bytes(memoryview(buffer)[:count]))
        return count

    def _arm(self) -> None:
        now = time.monotonic()
        run_left = RUN_CLOCK.ends - now
        if run_left <= 0:
            RUN_CLOCK.check()
        left = self._deadline - now
        if left <= 0:
            raise ReplyDeadline(self.guard.command, self.guard.peer, self._timeout)
        wanted = min(left, run_left, self._timeout)
        # settimeout costs two fcntl calls: the census reads a million times, mostly far from
        # any deadline, so the socket keeps its timeout until a deadline comes closer than it.
        if wanted < self._timeout or self._applied != self._timeout:
            self._sock.settimeout(wanted)
            self._applied = wanted

    def _read(self, read: Any, *args: Any) -> Any:
        try:
            return read(*args)
        except TimeoutError:
            RUN_CLOCK.check()
            if time.monotonic() >= self._deadline:
                raise ReplyDeadline(self.guard.command, self.guard.peer, self._timeout) from None
            raise

    def _scanned(self, data: bytes) -> None:
        if self.guard.scan(data):
            self._deadline = time.monotonic() + self._timeout

    def unstructured(self) -> GuardedSocket:
        """For a reader that parses replies itself and calls `replies_done`: cheaper per byte
        (the census reads millions of replies); hiredis refuses deep nesting on its own."""
        self.guard.structured = False
        return self

    def replies_done(self) -> None:
        """The reader completed at least one reply: the next one's size and deadline start now."""
        self.guard.reset()
        self._deadline = time.monotonic() + self._timeout


@contextmanager
def deadline(sock: socket.socket, seconds: float) -> Iterator[None]:
    """Shut the connection down when `seconds` (or the run's deadline) pass, whatever call waits
    on it, and raise TimeoutError.

    For exchanges no wrapper reaches (a TLS handshake, a stream from makefile, http.client): a
    socket timeout is per read, so a peer sending a byte a second would hold them for ever. The
    connection is shut down through a duplicate of its descriptor, so that it still works once
    `sock` is wrapped in TLS (wrapping moves the descriptor to the new socket object).
    """
    RUN_CLOCK.check()
    duplicate = socket.socket(fileno=os.dup(sock.fileno()))
    fired = threading.Event()
    over = threading.Lock()

    def expire() -> None:
        with over:
            if duplicate.fileno() >= 0:
                fired.set()
                with suppress(OSError):
                    duplicate.shutdown(socket.SHUT_RDWR)

    timer = threading.Timer(max(0.0, min(seconds, RUN_CLOCK.remaining())), expire)
    timer.daemon = True
    timer.start()
    try:
        yield
    except Exception as e:  # a half-read answer fails as the protocol's error (BadStatusLine, ...)
        if fired.is_set():
            RUN_CLOCK.check()
            raise TimeoutError(f"no complete exchange within {seconds:g} s") from e
        raise
    finally:
        timer.cancel()
        with over:
            duplicate.close()
    if fired.is_set():  # the shutdown may read as an orderly end of the stream
        RUN_CLOCK.check()
        raise TimeoutError(f"no complete exchange within {seconds:g} s")
