"""Each type's readable value: the command that reads it, its JSON form, and the writes that rebuild it.

The JSON forms: a string is its text; a hash `[[field, value], ...]`; a list and a set
`[member, ...]`; a sorted set `[[member, "score"], ...]` (scores as Redis prints them, so none is
rounded); a stream `[["id", [field, value, ...]], ...]`. Names, fields and members are bytes-safe
(see format.text).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from redis_preflight.backup.format import raw, text

# The one read-only command that returns a type's whole value.
READS: dict[bytes, tuple[bytes, ...]] = {
    b"string": (b"GET",),
    b"hash": (b"HGETALL",),
    b"list": (b"LRANGE", b"0", b"-1"),
    b"set": (b"SMEMBERS",),
    b"zset": (b"ZRANGE", b"0", b"-1", b"WITHSCORES"),
    b"stream": (b"XRANGE", b"-", b"+"),
}
# The size a verification compares with the file's value.
LENGTHS: dict[str, bytes] = {
    "string": b"STRLEN",
    "hash": b"HLEN",
    "list": b"LLEN",
    "set": b"SCARD",
    "zset": b"ZCARD",
    "stream": b"XLEN",
}
WRITE_CHUNK = 512  # elements per typed write: no single command grows without bound


def _pairs(reply: list[bytes]) -> list[list[Any]]:
    return [[text(reply[n]), text(reply[n + 1])] for n in range(0, len(reply), 2)]


def _scored(reply: list[bytes]) -> list[list[Any]]:
    return [[text(reply[n]), reply[n + 1].decode()] for n in range(0, len(reply), 2)]


def _entries(reply: list[Any]) -> list[list[Any]]:
    return [[entry_id.decode(), [text(part) for part in fields]] for entry_id, fields in reply]


def _members(reply: list[bytes]) -> list[Any]:
    return [text(member) for member in reply]


READABLE: dict[bytes, Callable[[Any], Any]] = {
    b"string": text,
    b"hash": _pairs,
    b"list": _members,
    b"set": _members,
    b"zset": _scored,
    b"stream": _entries,
}


def length_of(kind: str, value: Any) -> int:
    """What LENGTHS[kind] answers for this value."""
    return len(raw(value)) if kind == "string" else len(value)


def typed_writes(kind: str, name: bytes, value: Any) -> Iterator[tuple[bytes, ...]]:
    """The commands that rebuild a value without RESTORE (for a server older than the payload).

    A stream comes back with its entries and their IDs, not its consumer groups.
    """
    if kind == "string":
        yield (b"SET", name, raw(value))
        return
    if kind == "stream":
        for entry_id, fields in value:
            yield (b"XADD", name, entry_id.encode(), *(raw(part) for part in fields))
        return
    verbs = {"hash": b"HSET", "list": b"RPUSH", "set": b"SADD", "zset": b"ZADD"}
    if kind not in verbs:
        raise ValueError(f"a {kind} value can only be restored from its DUMP payload")
    for start in range(0, len(value), WRITE_CHUNK):
        chunk = value[start : start + WRITE_CHUNK]
        if kind == "hash":
            args = [raw(part) for pair in chunk for part in pair]
        elif kind == "zset":
            args = [part for member, score in chunk for part in (score.encode(), raw(member))]
        else:
            args = [raw(member) for member in chunk]
        yield (verbs[kind], name, *args)
