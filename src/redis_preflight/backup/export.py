"""`redis-preflight backup`: a read-only, streaming export of every key (or those matching patterns).

Per SCAN page, two pipelined writes: TYPE, the expiry and DUMP of each key (with the next SCAN),
then each key's readable value by the command its type needs. Only read commands are sent;
memory holds one page (and the largest value in it), whatever the keyspace's size.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any

import redis
from redis.exceptions import ResponseError

from redis_preflight.backup.format import Writer
from redis_preflight.backup.values import READABLE, READS
from redis_preflight.probes.keys.resp import RespPipe, Wire, bulks, open_pipe

SCAN_COUNT = 1000


class _Heads:
    """Each command's header, to go before a key's RESP bulk string (probes.keys.resp.bulks),
    built once per pipe under the names the server knows (--renamed-command)."""

    def __init__(self, wire: Wire, exact_expiry: bool) -> None:
        self.type = wire.head(b"TYPE", 2)
        self.dump = wire.head(b"DUMP", 2)
        self.expiry = wire.head(b"PEXPIRETIME" if exact_expiry else b"PTTL", 2)
        # A type's read command around its key: (header and verb, the arguments after the key).
        self.reads = {
            kind: (wire.head(words[0], len(words) + 1), b"".join(bulks(list(words[1:]))))
            for kind, words in READS.items()
        }

    def read(self, kind: bytes, name: bytes) -> bytes:
        """The command reading a key's value; a module type has no readable form: TYPE holds its place."""
        head, tail = self.reads.get(kind, (self.type, b""))
        return head + name + tail


Progress = Callable[[int, int, float], None]


@dataclass(frozen=True)
class Exported:
    keys: int
    vanished: int  # deleted or expired between SCAN and DUMP
    elapsed_s: float


@dataclass(frozen=True)
class Source:
    """One primary to export, and whether it has PEXPIRETIME (Redis 7) or only PTTL."""

    client: redis.Redis
    exact_expiry: bool


class Throttle:
    """Sleeps so that no more than `per_second` commands are sent on average."""

    def __init__(self, per_second: int | None) -> None:
        self.per_second = per_second
        self.ops = 0
        self.started = time.monotonic()

    def spend(self, ops: int) -> None:
        self.ops += ops
        if self.per_second:
            ahead = self.ops / self.per_second - (time.monotonic() - self.started)
            if ahead > 0:
                time.sleep(ahead)


def glob_regex(pattern: str) -> re.Pattern[bytes]:
    """Redis' glob (stringmatchlen): * ? [abc] [^a-z] and backslash escapes."""
    out, n, raw = [], 0, pattern.encode()
    while n < len(raw):
        char = raw[n : n + 1]
        if char == b"\\" and n + 1 < len(raw):
            n += 1
            out.append(re.escape(raw[n : n + 1]))
        elif char in (b"*", b"?"):
            out.append(b".*" if char == b"*" else b".")
        elif char == b"[" and b"]" in raw[n + 1 :]:
            end = raw.index(b"]", n + 2 if raw[n + 1 : n + 2] in (b"^", b"]") else n + 1)
            body = raw[n + 1 : end]
            negate = body.startswith(b"^")
            members = re.escape(body[negate:]).replace(b"\\-", b"-")
            out.append(b"[" + (b"^" if negate else b"") + members + b"]")
            n = end
        else:
            out.append(re.escape(char))
        n += 1
    return re.compile(b"".join(out) + b"\\Z", re.DOTALL)


def export(
    sources: Sequence[Source],
    path: Path,
    header: dict[str, Any],
    *,
    match: Sequence[str] = (),
    max_ops_per_sec: int | None = None,
    progress: Progress | None = None,
) -> Exported:
    """Every key of every source, written to `path`; the trailer is written only at the end."""
    writer = Writer(path, header)
    throttle = Throttle(max_ops_per_sec)
    count = min(SCAN_COUNT, max(10, max_ops_per_sec // 30)) if max_ops_per_sec else SCAN_COUNT
    vanished = total = 0
    for source in sources:
        with open_pipe(source.client) as pipe:
            total += int(pipe.call(b"DBSIZE"))
            page = _Page(pipe, writer, source.exact_expiry, throttle)
            for gone in page.rounds(_Scanner(match, count)):
                vanished += gone
                if progress is not None:
                    progress(writer.keys + vanished, total, time.monotonic() - throttle.started)
    writer.close(vanished=vanished)
    return Exported(writer.keys, vanished, time.monotonic() - throttle.started)


class _Scanner:
    """SCAN cursors, one pass per pattern; a key an earlier pattern matched is not given twice."""

    def __init__(self, match: Sequence[str], count: int) -> None:
        self.patterns: list[str | None] = list(match) or [None]
        self.count = count
        self.at = 0
        self.cursor = b"0"
        self.earlier: list[re.Pattern[bytes]] = []

    @property
    def done(self) -> bool:
        return self.at == len(self.patterns)

    def command(self, wire: Wire) -> bytes:
        pattern = self.patterns[self.at]
        filter_by = [b"MATCH", pattern.encode()] if pattern is not None else []
        return wire.command(b"SCAN", self.cursor, *filter_by, b"COUNT", self.count)

    def take(self, reply: Any) -> list[bytes]:
        _raise_errors([reply])
        self.cursor, keys = reply
        if self.earlier:
            keys = [key for key in keys if not any(seen.match(key) for seen in self.earlier)]
        if self.cursor == b"0":
            pattern = self.patterns[self.at]
            self.earlier += [glob_regex(pattern)] if pattern is not None else []
            self.at += 1
        return list(keys)


_Found = list[tuple[bytes, bytes, bytes, int | None, bytes]]  # key, its bulk, type, expiry, DUMP


class _Page:
    """The rounds of one server's export: while the server answers page N+1's TYPE, expiry and
    DUMP (and the next SCAN), the client writes page N's lines from its values."""

    def __init__(self, pipe: RespPipe, writer: Writer, exact_expiry: bool, throttle: Throttle) -> None:
        self.pipe = pipe
        self.writer = writer
        self.exact_expiry = exact_expiry
        self.heads = _Heads(pipe.wire, exact_expiry)
        self.throttle = throttle

    def rounds(self, scan: _Scanner) -> Iterator[int]:
        """Yields, per page, how many of its keys vanished before they could be read."""
        self.throttle.spend(1)
        self.pipe.send(scan.command(self.pipe.wire))
        keys = scan.take(self.pipe.read())
        reading: _Found | None = None
        while True:
            more = not scan.done
            self.throttle.spend(3 * len(keys) + more)
            self.pipe.send(self._ask(keys) + (scan.command(self.pipe.wire) if more else b""))
            if reading is not None:
                self._write(reading)
            found = self._answers(keys)
            yield len(keys) - len(found)
            following = scan.take(self.pipe.read()) if more else None
            self.throttle.spend(len(found))
            self.pipe.send(b"".join(self.heads.read(kind, name) for _, name, kind, _, _ in found))
            reading = found
            if following is None:
                break
            keys = following
        self._write(reading)

    def _ask(self, keys: list[bytes]) -> bytes:
        names = bulks(keys)
        self.names = names
        heads = self.heads
        return b"".join(chain.from_iterable((heads.type, k, heads.expiry, k, heads.dump, k) for k in names))

    def _answers(self, keys: list[bytes]) -> _Found:
        replies = self.pipe.read_many(3 * len(keys))
        now_ms = int(time.time() * 1000)
        _raise_errors(replies)
        return [
            (key, name, kind, self._expires_at(expiry, now_ms), dump)
            for key, name, kind, expiry, dump in zip(
                keys, self.names, replies[0::3], replies[1::3], replies[2::3], strict=True
            )
            if dump is not None and kind != b"none"
        ]

    def _write(self, found: _Found) -> None:
        values = self.pipe.read_many(len(found))
        for (key, _, kind, expires_at, dump), value in zip(found, values, strict=True):
            readable = None
            if kind in READABLE and value is not None and not isinstance(value, ResponseError):
                readable = READABLE[kind](value)
            self.writer.key(key, kind.decode(), expires_at, readable, dump)

    def _expires_at(self, reply: int, now_ms: int) -> int | None:
        if reply < 0:
            return None
        return reply if self.exact_expiry else now_ms + reply


def _raise_errors(replies: list[Any]) -> None:
    """TYPE, PTTL and DUMP answer for any key: an error (NOPERM, a blocked command) stops the export."""
    error = next((reply for reply in replies if isinstance(reply, ResponseError)), None)
    if error is not None:
        raise error
