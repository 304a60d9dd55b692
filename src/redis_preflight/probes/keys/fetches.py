"""What a census round asks for about a page's keys (values, types, memory), and the judgement
of each reply, deferred until the client has sent the next round."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from redis.exceptions import InvalidResponse, ResponseError

from redis_preflight.errors import ReplyTooLarge
from redis_preflight.probes.keys.census import CensusStopped
from redis_preflight.probes.keys.resp import RespPipe, Wire, bulks
from redis_preflight.probes.keys.shapes import Shape
from redis_preflight.probes.keys.tally import Tally

MGET_BYTES = 2 << 20  # one MGET reply at most
MEMBER_REPLY_BYTES = 2048  # what a member request's reply is counted as, against a round's bytes

Verdict = Callable[[], None]  # a judgement of replies already read, run while the server works
_ONE_BY_ONE = {"values": (b"GET",), "types": (b"TYPE",), "memory": (b"MEMORY", b"USAGE")}


@dataclass
class Fetch:
    """Values, types or memory of some keys of one pattern: one request of a round."""

    tally: Tally
    verb: str
    keys: list[bytes]
    bulks: list[bytes] | None = None  # set for values: one MGET of them all; and for members
    size: int = 0
    lengths: list[int] | None = None  # for members: each key's length (HLEN, ZCARD, ...)

    @property
    def ops(self) -> int:
        """Commands the server runs for it (an MGET counts one per key), for the throttle."""
        if self.verb == "members" and self.tally.shape is not None:
            return len(self.keys) * self.tally.shape.per_key
        return len(self.keys) * (2 if self.verb == "scores" else 1)

    def payload(self, wire: Wire) -> bytes:
        if self.verb == "members" and self.tally.shape is not None and self.bulks is not None:
            return self.tally.shape.requests(wire, self.bulks)
        if self.verb == "scores":
            return Shape.score_requests(wire, bulks(self.keys))
        if self.bulks is not None:
            return wire.mget(self.bulks)
        return wire.each(_ONE_BY_ONE[self.verb], self.keys)

    def receive(self, pipe: RespPipe) -> Verdict:
        if self.verb == "members" and self.tally.shape is not None:
            replies = pipe.read_many(len(self.keys) * self.tally.shape.per_key)
            _raise_refusals(replies)
            return partial(self.tally.judge_members, self.keys, self.lengths or [], replies)
        if self.verb == "scores":
            replies = pipe.read_many(2 * len(self.keys))
            _raise_refusals(replies)
            return partial(self.tally.judge_scores, self.keys, replies)
        if self.bulks is not None:
            return partial(self.tally.judge_values, self.keys, reply_or_raise(self._values(pipe)))
        replies = pipe.read_many(len(self.keys))
        if self.verb == "values":
            return partial(self.tally.judge_values, self.keys, [reply_or_raise(reply) for reply in replies])
        if self.verb == "types":
            return partial(self.tally.judge_types, self.keys, [reply_or_raise(reply) for reply in replies])
        return partial(self.tally.note_memory, replies)

    def _values(self, pipe: RespPipe) -> Any:
        """The MGET reply, read no further than its keys' STRLEN said (plus RESP framing)."""
        framing = 32 * (len(self.keys) + 1)
        try:
            return pipe.read_within(self.size + framing)
        except ReplyTooLarge as e:
            raise CensusStopped(
                f"MGET of {len(self.keys):,} keys from {e.peer} ran past the {self.size:,} bytes their "
                "STRLEN said: a value is larger than STRLEN reports, so the census stopped"
            ) from e


def _raise_refusals(replies: list[Any]) -> None:
    """A refused read (NOPERM, a renamed command) leaves values unjudged: never a silent pass.
    WRONGTYPE only says a key changed type since it was measured: that key is passed over."""
    if any(issubclass(kind, Exception) for kind in set(map(type, replies))):
        for error in (r for r in replies if isinstance(r, Exception)):
            if not (isinstance(error, ResponseError) and str(error).startswith("WRONGTYPE")):
                raise error


def reply_or_raise(reply: Any) -> Any:
    """A reply, or the error it is raised (hiredis hands error replies over as values: NOPERM,
    LOADING and the rest, each the exception a redis-py call would raise)."""
    if isinstance(reply, Exception):
        raise reply
    if reply is None or reply.__class__ in (bytes, int, list):
        return reply
    raise InvalidResponse(f"unexpected reply {reply.__class__.__name__} in the key census")


def members(tally: Tally, keys: list[bytes], bulk_keys: list[bytes], lengths: list[int]) -> Fetch:
    """The fields, members, scores or entries the contract judges, of some keys of one pattern."""
    replies = len(keys) * (tally.shape.per_key if tally.shape is not None else 0)
    return Fetch(tally, "members", keys, bulk_keys, replies * MEMBER_REPLY_BYTES, lengths)


def scores(tally: Tally) -> list[Fetch]:
    """The lowest and highest score of the keys the ZCOUNT screen found members out of range in."""
    keys, tally.scores_to_read = tally.scores_to_read, []
    return [Fetch(tally, "scores", keys, size=2 * len(keys) * MEMBER_REPLY_BYTES)] if keys else []


def chunks(tally: Tally, keys: list[bytes], bulk_keys: list[bytes] | None, sizes: list[int]) -> list[Fetch]:
    """Requests for the values, none asking for more than MGET_BYTES (unless one value alone does).

    Without `bulk_keys` the values are asked for one GET per key.
    """

    def fetch(start: int, end: int, size: int) -> Fetch:
        part = bulk_keys[start:end] if bulk_keys is not None else None
        return Fetch(tally, "values", keys[start:end], part, size)

    total = sum(sizes)
    if total <= MGET_BYTES:
        return [fetch(0, len(keys), total)] if keys else []
    chunks: list[Fetch] = []
    start = total = 0
    for index, size in enumerate(sizes):
        if index > start and total + size > MGET_BYTES:
            chunks.append(fetch(start, index, total))
            start, total = index, 0
        total += size
    chunks.append(fetch(start, len(keys), total))
    return chunks
