"""The key census: SCAN the keyspace once and examine each pattern's keys against the contract.

Every round trip carries three stages of work: the values (MGET) of the page measured in the
previous round, the next SCAN page, and PTTL/STRLEN of the page scanned in the previous round.
The server answers in that order, so the client judges the values while the server is still
scanning and measuring. Memory stays flat: one page of keys and one MGET reply at a time.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any

import redis
from redis.exceptions import ResponseError

from redis_preflight.census import Bounds, Census
from redis_preflight.contract import Contract
from redis_preflight.keynames import prefix_of, shown_prefix
from redis_preflight.probes.resp import RespPipe, command, each, mget, pttl_strlen
from redis_preflight.probes.tally import MEMORY_SAMPLE, Tally

SCAN_COUNT = 1000  # SCAN COUNT 1000 answers in about 2 ms on a loaded 1M-key server
MGET_BYTES = 2 << 20  # one MGET reply at most
ROUND_VALUE_BYTES = 16 << 20  # values one round trip may ask for: the server buffers them
MAX_PREFIXES = 50  # unmatched prefixes counted apart; the rest are "other prefixes"
OTHER_PREFIXES = "(other prefixes)"


def take_census(client: redis.Redis, contract: Contract, bounds: Bounds) -> Census:
    """Run the census on a connection of its own, closed whatever happens."""
    pool = client.connection_pool
    connection = pool.get_connection()
    try:
        return _Census(RespPipe(connection), contract, bounds).run()
    finally:
        # Read raw, the connection's own parser does not know where the stream stands.
        connection.disconnect()  # type: ignore[no-untyped-call]
        pool.release(connection)


@dataclass
class _Fetch:
    """Values, types or memory of some keys of one pattern: one request of a round trip."""

    tally: Tally
    verb: str
    keys: list[bytes]
    size: int = 0

    def payload(self) -> bytes:
        if self.verb == "values":
            return mget(self.keys)
        return each((b"TYPE",) if self.verb == "types" else (b"MEMORY", b"USAGE"), self.keys)

    def receive(self, pipe: RespPipe) -> None:
        if self.verb == "values":
            self.tally.judge_values(self.keys, _ok(pipe.read()))
        elif self.verb == "types":
            self.tally.judge_types(self.keys, [_ok(reply) for reply in pipe.read_many(len(self.keys))])
        else:
            self.tally.note_memory(pipe.read_many(len(self.keys)))


def _ok(reply: Any) -> Any:
    if isinstance(reply, ResponseError):
        raise reply
    return reply


class _Census:
    def __init__(self, pipe: RespPipe, contract: Contract, bounds: Bounds) -> None:
        self.pipe = pipe
        self.bounds = bounds
        self.tallies = [Tally(pattern, bounds) for pattern in contract.patterns]
        longest_first = sorted(self.tallies, key=lambda tally: -len(tally.prefix))
        self.ranges = [(tally, _successor(tally.prefix)) for tally in longest_first]
        self.unmatched: Counter[bytes | None] = Counter()
        rate = bounds.max_ops_per_sec
        # Throttled, a round carries about a thirtieth of a second's worth of commands.
        self.scan_count = min(SCAN_COUNT, max(10, rate // 30)) if rate else SCAN_COUNT
        self.cursor: bytes | None = b"0"
        self.scanned = self.ops = 0
        self.started = time.monotonic()

    def run(self) -> Census:
        dbsize = int(self.pipe.call(b"DBSIZE"))
        self.started = time.monotonic()
        self._rounds()
        complete = self.cursor is None
        scale = dbsize / self.scanned if self.scanned else 0.0
        unmatched = ((OTHER_PREFIXES if p is None else shown_prefix(p), n) for p, n in self.unmatched.items())
        return Census(
            patterns=tuple(tally.freeze(complete, scale) for tally in self.tallies),
            unmatched=tuple(sorted(unmatched, key=lambda group: -group[1])),
            dbsize=dbsize,
            scanned=self.scanned,
            complete=complete,
            elapsed_s=time.monotonic() - self.started,
            bounds=self.bounds,
        )

    def _rounds(self) -> None:
        chosen: list[tuple[Tally, list[bytes]]] = []
        fetches: deque[_Fetch] = deque()
        while True:
            fetching = self._take(fetches)
            # While the measured page still has values to ask for, nothing new is started.
            scanning = not fetches and self.cursor is not None and (not self.scanned or self._within_budget())
            measuring = [] if fetches else chosen
            if not (fetching or scanning or measuring):
                return
            parts = [fetch.payload() for fetch in fetching]
            if scanning:
                parts.append(command(b"SCAN", self.cursor or b"0", b"COUNT", self.scan_count))
            parts += [pttl_strlen(keys) for _, keys in measuring]
            self._throttle(sum(len(f.keys) for f in fetching) + 1 + sum(2 * len(k) for _, k in measuring))
            self.pipe.send(b"".join(parts))
            for fetch in fetching:
                fetch.receive(self.pipe)
            page = self._scan_reply() if scanning else None
            if measuring:
                fetches.extend(self._measure(measuring))
                chosen = []
            if page is not None:
                chosen = self._choose(page)

    def _take(self, fetches: deque[_Fetch]) -> list[_Fetch]:
        taken: list[_Fetch] = []
        size = 0
        while fetches and (not taken or size + fetches[0].size <= ROUND_VALUE_BYTES):
            taken.append(fetches.popleft())
            size += taken[-1].size
        return taken

    def _within_budget(self) -> bool:
        return self.bounds.full_scan or time.monotonic() - self.started < self.bounds.scan_budget_s

    def _throttle(self, ops: int) -> None:
        self.ops += ops
        if self.bounds.max_ops_per_sec:
            ahead = self.ops / self.bounds.max_ops_per_sec - (time.monotonic() - self.started)
            if ahead > 0:
                time.sleep(ahead)

    def _scan_reply(self) -> list[bytes]:
        cursor, keys = _ok(self.pipe.read())
        self.cursor = None if cursor == b"0" else cursor
        self.scanned += len(keys)
        return list(keys)

    def _choose(self, page: list[bytes]) -> list[tuple[Tally, list[bytes]]]:
        """Sort a SCAN page into patterns, longest prefix first; count the unmatched keys.

        Sorted, each prefix's keys are one slice found by bisection: no Python loop per key.
        """
        page.sort()
        claimed: list[tuple[int, int]] = []
        chosen: list[tuple[Tally, list[bytes]]] = []
        for tally, after in self.ranges:
            low = bisect_left(page, tally.prefix)
            high = bisect_left(page, after, low) if after else len(page)
            keys = [key for start, end in _gaps(low, high, claimed) for key in page[start:end]]
            claimed = sorted([*claimed, (low, high)])
            keys = tally.choose(keys)
            if keys:
                chosen.append((tally, keys))
        for start, end in _gaps(0, len(page), claimed):
            for key in page[start:end]:
                self._unmatched(key)
        return chosen

    def _unmatched(self, key: bytes) -> None:
        prefix: bytes | None = prefix_of(key)
        if prefix not in self.unmatched and len(self.unmatched) >= MAX_PREFIXES:
            prefix = None
        self.unmatched[prefix] += 1

    def _measure(self, measuring: list[tuple[Tally, list[bytes]]]) -> list[_Fetch]:
        """Judge PTTL/STRLEN replies; plan the values, types and memory to ask for next."""
        fetches: list[_Fetch] = []
        now_ms = int(time.time() * 1000)
        for tally, keys in measuring:
            replies = self.pipe.read_many(2 * len(keys))
            pttls, lengths = [_ok(r) for r in replies[0::2]], replies[1::2]
            for error in (r for r in lengths if isinstance(r, ResponseError)):
                if not str(error).startswith("WRONGTYPE"):
                    raise error
            strings, sizes, others = tally.judge_meta(keys, pttls, lengths, now_ms)
            fetches += _chunks(tally, strings, sizes)
            if others:
                fetches.append(_Fetch(tally, "types", others))
            wanted = MEMORY_SAMPLE - tally.memory_asked
            if wanted > 0 and strings:
                tally.memory_asked += len(strings[:wanted])
                fetches.append(_Fetch(tally, "memory", strings[:wanted]))
        return fetches


def _chunks(tally: Tally, keys: list[bytes], sizes: list[int]) -> list[_Fetch]:
    """MGETs of the keys, none asking for more than MGET_BYTES (unless one value alone does)."""
    chunks: list[_Fetch] = []
    start = total = 0
    for index, size in enumerate(sizes):
        if index > start and total + size > MGET_BYTES:
            chunks.append(_Fetch(tally, "values", keys[start:index], total))
            start, total = index, 0
        total += size
    if keys:
        chunks.append(_Fetch(tally, "values", keys[start:], total))
    return chunks


def _successor(prefix: bytes) -> bytes:
    """The smallest name after every name that starts with `prefix` (b"" if there is none)."""
    stripped = prefix.rstrip(b"\xff")
    return stripped[:-1] + bytes([stripped[-1] + 1]) if stripped else b""


def _gaps(low: int, high: int, claimed: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The parts of [low, high) outside the sorted, nested-or-disjoint `claimed` ranges."""
    gaps = []
    for start, end in claimed:
        if end <= low or start >= high:
            continue
        if start > low:
            gaps.append((low, start))
        low = max(low, end)
    if low < high:
        gaps.append((low, high))
    return gaps
