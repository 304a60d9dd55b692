"""`redis-preflight restore`: write a validated backup into a db, then compare the db with the file.

Each key goes back by RESTORE ... ABSTTL when its DUMP payload's RDB version is one the target
reads (exact: encoding, stream groups and all), by typed writes (SET, HSET, ... then PEXPIREAT)
otherwise. Keys whose expiry has passed are skipped and counted. Batches are pipelined.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from itertools import islice
from typing import Any

from redis.exceptions import ResponseError

from redis_preflight.backup.format import KeyRecord, Manifest, payload_rdb_version, records
from redis_preflight.backup.values import LENGTHS, length_of, typed_writes
from redis_preflight.probes.keys.resp import RespPipe, Wire, bulks

BATCH = 1000
SHOWN_PROBLEMS = 5
# Without PEXPIRETIME (before Redis 7) an expiry is read back as PTTL, off by the round trip.
PTTL_TOLERANCE_MS = 2000
_BULK = b"$%d\r\n%b\r\n"
Progress = Callable[[int, int, float], None]


class Mode(Enum):
    EMPTY = "empty"  # the db held no key: any key found there now was written by someone else
    REPLACE = "replace"  # the file's keys overwrite keys of the same name
    MERGE = "merge"  # keys already there are kept, the file's copy is skipped


@dataclass(frozen=True)
class Server:
    """What the restore needs to know of the target."""

    version: str
    reads_rdb: int  # the newest RDB version its RESTORE accepts

    @property
    def major(self) -> int:
        return int(self.version.split(".")[0])


@dataclass
class Tally:
    """Counts of a restore or a verification, and the first problems, by line."""

    done: int = 0
    typed: int = 0
    expired: int = 0
    kept: int = 0
    problems: int = 0
    shown: list[str] = field(default_factory=list)

    def problem(self, record: KeyRecord, what: str) -> None:
        self.problems += 1
        if len(self.shown) < SHOWN_PROBLEMS:
            self.shown.append(f"line {record.line} ({record.type}): {what}")


def batches(manifest: Manifest) -> Iterator[list[KeyRecord]]:
    keys = records(manifest.path)
    while batch := list(islice(keys, BATCH)):
        yield batch


def restore(
    manifest: Manifest, pipe: RespPipe, server: Server, mode: Mode, progress: Progress | None = None
) -> Tally:
    """Write every key of the file that has not expired; the file was validated before.

    One batch is in flight while the next is read from the file and sent: the server restores
    while the client parses. Typed writes wait until no RESTORE reply is outstanding.
    """
    tally = Tally()
    started = time.monotonic()
    sent: list[KeyRecord] = []
    for batch in batches(manifest):
        now_ms = int(time.time() * 1000)
        fits: list[tuple[KeyRecord, bytes]] = []
        typed: list[KeyRecord] = []
        for record in batch:
            if record.expires_at_ms is not None and record.expires_at_ms <= now_ms:
                tally.expired += 1
            elif payload_rdb_version(payload := record.dump) <= server.reads_rdb:
                fits.append((record, payload))
            else:
                typed.append(record)
        _send_restores(fits, pipe, server, mode)
        refused = _restore_replies(sent, pipe, mode, tally)
        sent = [record for record, _ in fits]
        if typed or refused:
            refused += _restore_replies(sent, pipe, mode, tally)
            sent = []
            _typed(typed + refused, pipe, mode, tally)
        if progress is not None:
            done = tally.done + tally.expired + tally.kept + tally.problems
            progress(done, manifest.keys, time.monotonic() - started)
    _typed(_restore_replies(sent, pipe, mode, tally), pipe, mode, tally)
    return tally


def _send_restores(batch: list[tuple[KeyRecord, bytes]], pipe: RespPipe, server: Server, mode: Mode) -> None:
    flags = [b"REPLACE"] if mode is Mode.REPLACE else []
    flags += [b"ABSTTL"] if server.major >= 5 else []
    head, tail = pipe.wire.head(b"RESTORE", 4 + len(flags)), b"".join(bulks(flags))
    now_ms = int(time.time() * 1000)
    absolute = server.major >= 5
    restores = [
        b"".join(
            (head, _BULK % (len(r.name), r.name), _ttl(r, absolute, now_ms), _BULK % (len(dump), dump), tail)
        )
        for r, dump in batch
    ]
    pipe.send(b"".join(restores))


def _restore_replies(batch: list[KeyRecord], pipe: RespPipe, mode: Mode, tally: Tally) -> list[KeyRecord]:
    """Count RESTORE's replies; returns the keys the server refused for their RDB version."""
    refused = []
    for record, reply in zip(batch, pipe.read_many(len(batch)), strict=True):
        if not isinstance(reply, ResponseError):
            tally.done += 1
        elif _unknown_command(reply):
            raise reply  # renamed or disabled: no key can go back (--renamed-command)
        elif str(reply).startswith("BUSYKEY") and mode is Mode.MERGE:
            tally.kept += 1
        elif "payload version" in str(reply):
            refused.append(record)
        else:
            tally.problem(record, str(reply))
    return refused


def _unknown_command(reply: ResponseError) -> bool:
    return "UNKNOWN COMMAND" in str(reply).upper()


def _ttl(record: KeyRecord, absolute: bool, now_ms: int) -> bytes:
    """RESTORE's TTL argument: the expiry itself with ABSTTL (Redis 5+), else the time left."""
    if record.expires_at_ms is None:
        return b"$1\r\n0\r\n"
    ttl = b"%d" % (record.expires_at_ms if absolute else max(1, record.expires_at_ms - now_ms))
    return _BULK % (len(ttl), ttl)


def _typed(batch: list[KeyRecord], pipe: RespPipe, mode: Mode, tally: Tally) -> None:
    """SET, HSET, RPUSH, SADD, ZADD or XADD, then PEXPIREAT: for payloads the server cannot read."""
    if mode is Mode.MERGE and batch:
        pipe.send(b"".join(pipe.wire.command(b"EXISTS", record.name) for record in batch))
        there = pipe.read_many(len(batch))
        tally.kept += sum(there)
        batch = [record for record, exists in zip(batch, there, strict=True) if not exists]
    for record in batch:
        try:
            writes = [
                *([(b"DEL", record.name)] if mode is Mode.REPLACE else []),
                *typed_writes(record.type, record.name, record.value),
            ]
        except (ValueError, TypeError) as e:
            tally.problem(record, str(e))
            continue
        if record.expires_at_ms is not None:
            writes.append((b"PEXPIREAT", record.name, str(record.expires_at_ms).encode()))
        pipe.send(b"".join(pipe.wire.command(*write) for write in writes))
        errors = [reply for reply in pipe.read_many(len(writes)) if isinstance(reply, ResponseError)]
        if errors:
            tally.problem(record, str(errors[0]))
        else:
            tally.done += 1
            tally.typed += 1


def verify(manifest: Manifest, pipe: RespPipe, server: Server, mode: Mode) -> Tally:
    """Compare the db with the file: each key's type, expiry and length (under --merge: it exists).

    As in `restore`, one batch's questions are in flight while the next batch is read.
    """
    tally = Tally()
    expiry = b"PEXPIRETIME" if server.major >= 7 else b"PTTL"
    questions = _Questions(pipe.wire, expiry)
    asked: list[KeyRecord] = []
    for batch in batches(manifest):
        pipe.send(b"".join(questions.about(record) for record in batch))
        _answers(asked, pipe, mode, expiry, tally)
        asked = batch
    _answers(asked, pipe, mode, expiry, tally)
    return tally


def _answers(batch: list[KeyRecord], pipe: RespPipe, mode: Mode, expiry: bytes, tally: Tally) -> None:
    replies = pipe.read_many(3 * len(batch))
    # TYPE and the expiry answer for any key: an error is the command refused (renamed, NOPERM).
    refusal = next((r for r in replies[::3] + replies[1::3] if isinstance(r, ResponseError)), None)
    if refusal is not None:
        raise refusal
    # Taken after the replies: a key the server found expired has expired by now.
    now_ms = int(time.time() * 1000)
    for record, kind, expires, length in zip(batch, replies[::3], replies[1::3], replies[2::3], strict=True):
        if kind == b"none" and record.expires_at_ms is not None and record.expires_at_ms <= now_ms:
            tally.expired += 1
        elif mode is Mode.MERGE and kind != b"none":
            tally.done += 1
        elif (problem := _compare(record, kind, expires, length, expiry, now_ms)) is not None:
            tally.problem(record, problem)
        else:
            tally.done += 1


class _Questions:
    """TYPE, the expiry and the length of a key: each command's header built once per pipe,
    under the names the server knows (--renamed-command)."""

    def __init__(self, wire: Wire, expiry: bytes) -> None:
        self.type, self.expiry, self.exists = (
            wire.head(b"TYPE", 2),
            wire.head(expiry, 2),
            wire.head(b"EXISTS", 2),
        )
        self.lengths = {kind: wire.head(verb, 2) for kind, verb in LENGTHS.items()}

    def about(self, record: KeyRecord) -> bytes:
        name = _BULK % (len(record.name), record.name)
        return b"".join(
            (self.type, name, self.expiry, name, self.lengths.get(record.type, self.exists), name)
        )


def _compare(
    record: KeyRecord, kind: Any, expires: Any, length: Any, expiry: bytes, now_ms: int
) -> str | None:
    if kind == b"none":
        return "missing from the db"
    if kind != record.type.encode():
        return f"a {kind.decode()} in the db"
    found = None if expires < 0 else (expires if expiry == b"PEXPIRETIME" else now_ms + expires)
    tolerance = 0 if expiry == b"PEXPIRETIME" else PTTL_TOLERANCE_MS
    if (found is None) != (record.expires_at_ms is None) or (
        found is not None and abs(found - (record.expires_at_ms or 0)) > tolerance
    ):
        return f"expires at {found} in the db, {record.expires_at_ms} in the file (ms since the epoch)"
    if record.value is not None and record.type in LENGTHS and length != length_of(record.type, record.value):
        return f"length {length} in the db, {length_of(record.type, record.value)} in the file"
    return None
