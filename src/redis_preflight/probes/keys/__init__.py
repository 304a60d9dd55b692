"""The key census: SCAN the keyspace once and examine each pattern's keys against the contract.

Work goes in rounds of two writes. The first asks for the values (MGET) of the page measured in
the round before and for the next SCAN page; while the server works on it, the client sorts the
page scanned in the round before and sends its PTTL/STRLEN as the second write; then it judges
what the previous round brought (validation above all) before reading this round's replies, so
the server rarely waits for the client. Memory stays flat: a few pages of keys and at most
ROUND_VALUE_BYTES of values at a time.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import redis
from redis.exceptions import InvalidResponse, ResponseError

from redis_preflight.contract import Contract
from redis_preflight.probes.keys.census import Bounds, Census, CensusFailed, CensusStopped
from redis_preflight.probes.keys.fetches import Fetch, Verdict, chunks, members, reply_or_raise, scores
from redis_preflight.probes.keys.names import prefix_of, shown_prefix
from redis_preflight.probes.keys.pages import Sorter
from redis_preflight.probes.keys.resp import RespPipe, bulks, open_pipe
from redis_preflight.probes.keys.tally import MEMORY_SAMPLE, Tally

SCAN_COUNT = 500  # SCAN COUNT 500 answers in about a millisecond on a busy 1M-key server
ROUND_VALUE_BYTES = 16 << 20  # values one round may ask for: the server buffers them
MAX_PREFIXES = 50  # unmatched prefixes counted apart; the rest are "other prefixes"
OTHER_PREFIXES = "(other prefixes)"


def take_census(
    clients: Sequence[redis.Redis],
    contract: Contract,
    bounds: Bounds,
    *,
    cluster: bool = False,
    progress: Callable[[int, int, float], None] | None = None,
) -> Census:
    """The census of each client's db in turn (the target, or each primary of a cluster).

    The bounds are the whole census's: one time budget, one throttle, one sample per pattern.
    A cluster node refuses an MGET whose keys hash to different slots: there, values are
    fetched with one GET per key.
    """
    census = _Census(contract, bounds, one_by_one=cluster, progress=progress)
    for index, client in enumerate(clients):
        try:
            with open_pipe(client) as pipe:
                census.scan(pipe)
        except CensusStopped as e:
            census.stopped = str(e)
            census.complete = False
            break
        except (OSError, redis.RedisError) as e:
            raise CensusFailed(index, e) from e
    return census.result()


@dataclass
class _Group:
    """The keys of one pattern in one SCAN page, chosen for examination."""

    tally: Tally
    keys: list[bytes]
    bulks: list[bytes]  # the keys encoded once, for PTTL, STRLEN and MGET alike


class _Census:
    def __init__(
        self,
        contract: Contract,
        bounds: Bounds,
        one_by_one: bool,
        progress: Callable[[int, int, float], None] | None = None,
    ) -> None:
        self.bounds = bounds
        self.progress = progress
        self.one_by_one = one_by_one
        self.tallies = [Tally(pattern, bounds) for pattern in contract.patterns]
        self.sorter = Sorter({tally.prefix: tally for tally in self.tallies})
        self.unmatched: Counter[bytes | None] = Counter()
        rate = bounds.max_ops_per_sec
        # Throttled, a round carries about a thirtieth of a second's worth of commands.
        self.scan_count = min(SCAN_COUNT, max(10, rate // 30)) if rate else SCAN_COUNT
        self.dbsize = self.scanned = self.ops = 0
        self.complete = True
        self.stopped: str | None = None
        self.started = time.monotonic()

    def scan(self, pipe: RespPipe) -> None:
        """One server's db, SCAN cursor from 0 to 0 unless the time budget ends first."""
        self.pipe = pipe
        dbsize = int(pipe.call(b"DBSIZE"))
        self.dbsize += dbsize
        if any(t.pattern.type == "hash" and t.pattern.fields for t in self.tallies) and _has_field_ttls(pipe):
            for tally in self.tallies:
                tally.read_field_ttls()
        self.cursor: bytes | None = b"0"
        self.cursors: set[bytes] = set()
        # SCAN may return a key more than once, never this many times over.
        self.most_keys = self.scanned + 2 * dbsize + 10 * self.scan_count
        self._rounds()
        self.complete = self.complete and self.cursor is None

    def result(self) -> Census:
        scale = self.dbsize / self.scanned if self.scanned else 0.0
        unmatched = ((OTHER_PREFIXES if p is None else shown_prefix(p), n) for p, n in self.unmatched.items())
        return Census(
            patterns=tuple(tally.freeze(self.complete, scale) for tally in self.tallies),
            unmatched=tuple(sorted(unmatched, key=lambda group: -group[1])),
            dbsize=self.dbsize,
            scanned=self.scanned,
            complete=self.complete,
            elapsed_s=time.monotonic() - self.started,
            bounds=self.bounds,
            stopped=self.stopped,
        )

    def _rounds(self) -> None:
        page: list[bytes] | None = None  # the last SCAN page, its keys not yet measured
        fetches: deque[Fetch] = deque()
        verdicts: list[Verdict] = []
        while True:
            fetching = self._take(fetches)
            # While the measured page still has values to ask for, nothing new is started.
            scanning = not fetches and self.cursor is not None and (not self.scanned or self._within_budget())
            to_measure = None if fetches else page
            if not (fetching or scanning or to_measure is not None):
                if not verdicts:
                    break
                verdicts = self._judge(verdicts, fetches)  # its findings may ask for one more read
                continue
            self._send(
                [fetch.payload(self.pipe.wire) for fetch in fetching], sum(f.ops for f in fetching), scanning
            )
            # Sorting the page and building its PTTL/STRLEN overlap the server's MGET and SCAN.
            measuring = self._choose(to_measure) if to_measure is not None else []
            self._send(
                [self.pipe.wire.pttl_length(g.tally.length_verb, g.bulks) for g in measuring],
                sum(2 * len(g.keys) for g in measuring),
            )
            page = None if to_measure is not None else page
            self._judge(verdicts, fetches)
            verdicts = [fetch.receive(self.pipe) for fetch in fetching]
            if scanning:
                page = self._scan_reply()
            fetches.extend(self._measure(measuring, verdicts))

    def _judge(self, verdicts: list[Verdict], fetches: deque[Fetch]) -> list[Verdict]:
        """Run the judgements of replies read; what they ask to read again joins the fetches."""
        for verdict in verdicts:
            verdict()
        for tally in self.tallies:
            fetches.extend(scores(tally))
        return []

    def _send(self, parts: list[bytes], ops: int, scanning: bool = False) -> None:
        if scanning:
            parts.append(self.pipe.wire.command(b"SCAN", self.cursor or b"0", b"COUNT", self.scan_count))
        if parts:
            self._throttle(ops + scanning)
            self.pipe.send(b"".join(parts))

    def _take(self, fetches: deque[Fetch]) -> list[Fetch]:
        taken: list[Fetch] = []
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
        reply = reply_or_raise(self.pipe.read())
        if not (len(reply) == 2 and isinstance(reply[0], bytes) and isinstance(reply[1], list)):
            raise InvalidResponse("SCAN answered something other than a cursor and a page of keys")
        cursor, keys = reply
        self.cursor = None if cursor == b"0" else cursor
        self.scanned += len(keys)
        self._check_progress(cursor)
        if self.progress is not None:
            self.progress(self.scanned, self.dbsize, time.monotonic() - self.started)
        return list(keys)

    def _check_progress(self, cursor: bytes) -> None:
        """A SCAN cursor visits each value once per pass: one seen again, or far more keys than
        DBSIZE, means a scan that would never end (--full-scan has no time budget to stop it)."""
        where = self.pipe.peer
        if cursor in self.cursors:
            raise CensusStopped(
                f"SCAN from {where} returned cursor {cursor.decode(errors='replace')} a second time, "
                f"after {self.scanned:,} keys: its cursor goes round in circles, so the census stopped"
            )
        self.cursors.add(cursor)
        if self.scanned > self.most_keys:
            raise CensusStopped(
                f"SCAN from {where} returned {self.scanned:,} keys where DBSIZE said {self.dbsize:,}: "
                "its cursor does not progress, so the census stopped"
            )

    def _choose(self, page: list[bytes]) -> list[_Group]:
        """Sort a SCAN page into patterns; the keys within each sample are examined."""
        groups, unmatched = self.sorter.sort(page)
        for key in unmatched:
            prefix: bytes | None = prefix_of(key)
            if prefix not in self.unmatched and len(self.unmatched) >= MAX_PREFIXES:
                prefix = None
            self.unmatched[prefix] += 1
        chosen = [(tally, tally.choose(keys)) for tally, keys in groups]
        return [_Group(tally, keys, bulks(keys)) for tally, keys in chosen if keys]

    def _measure(self, measuring: list[_Group], verdicts: list[Verdict]) -> list[Fetch]:
        """Read PTTL/STRLEN replies, plan the values, types and memory to ask for next."""
        fetches: list[Fetch] = []
        now_ms = int(time.time() * 1000)
        for group in measuring:
            replies = self.pipe.read_many(2 * len(group.keys))
            pttls, lengths = replies[0::2], replies[1::2]
            _raise_errors(pttls, lengths)
            verdicts.append(partial(group.tally.judge_ttls, group.keys, pttls, now_ms))
            fetch, others = group.tally.plan(group.keys, lengths)
            if len(fetch) == len(group.keys):
                keys, bulk_keys, sizes = group.keys, group.bulks, lengths
            else:
                keys, bulk_keys = [group.keys[i] for i in fetch], [group.bulks[i] for i in fetch]
                sizes = [lengths[i] for i in fetch]
            if group.tally.string:
                fetches += chunks(group.tally, keys, None if self.one_by_one else bulk_keys, sizes)
            elif keys and group.tally.asks_members:
                fetches.append(members(group.tally, keys, bulk_keys, sizes))
            if others:
                fetches.append(Fetch(group.tally, "types", others))
            wanted = MEMORY_SAMPLE - group.tally.memory_asked
            if wanted > 0 and keys:
                group.tally.memory_asked += len(keys[:wanted])
                fetches.append(Fetch(group.tally, "memory", keys[:wanted]))
        return fetches


def _has_field_ttls(pipe: RespPipe) -> bool:
    """Whether the server has per-field hash TTLs (HPTTL, Redis 7.4+)."""
    try:
        return pipe.call(b"COMMAND", b"INFO", b"HPTTL") not in ([None], [])
    except ResponseError:  # COMMAND refused by an ACL: the census goes on without them
        return False


def _raise_errors(pttls: list[Any], lengths: list[Any]) -> None:
    """PTTL must answer for every key; STRLEN (HLEN, ...) may only say WRONGTYPE (another type)."""
    if set(map(type, pttls)) != {int}:
        raise next(map(reply_or_raise, (r for r in pttls if r.__class__ is not int)))
    if set(map(type, lengths)) != {int}:
        for reply in (r for r in lengths if r.__class__ is not int):
            if not (isinstance(reply, ResponseError) and str(reply).startswith("WRONGTYPE")):
                reply_or_raise(reply)
