"""What the census asks about a key of each Redis type, and how it judges the replies.

A string's value comes by MGET (the tally's own path). Every other type is measured by its
length command (HLEN, LLEN, SCARD, ZCARD, XLEN: WRONGTYPE tells a key of another type, as
STRLEN does for strings) and then asked, per key, only for what the contract can judge: the
declared fields of a hash (HMGET, never HGETALL), at most MEMBERS_READ members of a collection,
the first entries of a stream. A sorted set's scores are screened by ZCOUNT over the allowed
range against its ZCARD: one integer per key. Only a key with members outside the range is read
again (its lowest and highest score, in a later round) so that the finding names the score.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Strict, TypeAdapter, ValidationError
from redis.exceptions import InvalidResponse

from redis_preflight.contract import KeyPattern

if TYPE_CHECKING:
    from redis_preflight.probes.keys.resp import Wire

MEMBERS_READ = 100  # members, entries read per key at most: a bounded reply, never a big one
LENGTH_VERB = {
    "string": b"STRLEN",
    "hash": b"HLEN",
    "list": b"LLEN",
    "set": b"SCARD",
    "zset": b"ZCARD",
    "stream": b"XLEN",
}
UNIT = {"string": "bytes", "hash": "fields", "list": "members", "set": "members", "zset": "members"}
UNIT["stream"] = "entries"
Finding = tuple[int, str, str]  # index of the key, violation kind, reason
SCORES_TO_READ = "scores_to_read"  # not a finding: the key's lowest and highest score are read next
_QUOTED = re.compile(r"`[^`]*`")


def _bulk(*parts: bytes) -> bytes:
    return b"".join(b"$%d\r\n%b\r\n" % (len(p), p) for p in parts)


class Shape:
    """The requests and judgement of one non-string pattern's keys, `per_key` replies each."""

    def __init__(self, pattern: KeyPattern, field_ttls: bool) -> None:
        self.pattern = pattern
        self.validator = pattern.validator()
        self.fields = pattern.fields
        self.scores = pattern.min_score is not None or pattern.max_score is not None
        self.field_ttls = field_ttls and pattern.type == "hash" and bool(self.fields)
        self.commands = list(self._commands())
        self.rows = _row_validator(pattern.value) if pattern.type == "hash" and self.fields else None
        self.field_ttl_counts = [0, 0]  # fields read, fields with a TTL of their own
        self.field_ttl_low: int | None = None  # lowest and highest field TTL in ms
        self.field_ttl_high: int | None = None

    @property
    def per_key(self) -> int:
        return len(self.commands)

    def _commands(self) -> Iterator[tuple[bytes, int, bytes]]:
        """(verb, words, tail) of each command: the request is the verb's head (Wire.head, under
        its new name if renamed) + the key's bulk + tail."""
        kind, n = self.pattern.type, MEMBERS_READ - 1
        fields = _bulk(*(f.encode() for f in self.fields))
        count = len(self.fields)
        if kind == "hash" and self.fields:
            yield b"HMGET", count + 2, fields
            if self.field_ttls:
                yield b"HPTTL", count + 4, _bulk(b"FIELDS", b"%d" % count) + fields
        elif kind == "list" and self.validator:
            yield b"LRANGE", 4, _bulk(b"0", b"%d" % n)
        elif kind == "set" and self.validator:
            yield b"SRANDMEMBER", 3, _bulk(b"%d" % MEMBERS_READ)
        elif kind == "zset":
            if self.validator:
                yield b"ZRANGE", 4, _bulk(b"0", b"%d" % n)
            if self.scores:
                yield b"ZCOUNT", 4, _bulk(*self._score_range())
        elif kind == "stream" and self.validator:
            yield b"XRANGE", 6, _bulk(b"-", b"+", b"COUNT", b"%d" % MEMBERS_READ)

    def _score_range(self) -> tuple[bytes, bytes]:
        low, high = self.pattern.min_score, self.pattern.max_score
        return (b"-inf" if low is None else repr(float(low)).encode()), (
            b"+inf" if high is None else repr(float(high)).encode()
        )

    def requests(self, wire: Wire, bulk_keys: list[bytes]) -> bytes:
        commands = [(wire.head(verb, words), tail) for verb, words, tail in self.commands]
        return b"".join([head + key + tail for key in bulk_keys for head, tail in commands])

    @staticmethod
    def score_requests(wire: Wire, bulk_keys: list[bytes]) -> bytes:
        """The lowest and highest member with its score, of each key: two replies each."""
        head = wire.head(b"ZRANGE", 5)
        lowest, highest = _bulk(b"0", b"0", b"WITHSCORES"), _bulk(b"-1", b"-1", b"WITHSCORES")
        return b"".join([head + key + tail for key in bulk_keys for tail in (lowest, highest)])

    def judge_scores(self, replies: list[Any]) -> Iterator[Finding]:
        """Findings from score_requests' replies; a key emptied or retyped since is passed over."""
        pairs = [(i // 2, replies[i], replies[i + 1]) for i in range(0, len(replies) - 1, 2)]
        kept = [(i, low, high) for i, low, high in pairs if _one_scored(low) and _one_scored(high)]
        for index, kind, reason in self._scores([(low[1], high[1]) for _, low, high in kept]):
            yield kept[index][0], kind, reason

    def judge(self, replies: list[Any], lengths: list[int]) -> Iterator[Finding]:
        """Findings about each key from its replies (`per_key` each) and its length.

        A key that changed type or vanished since it was measured answers with an error or
        nothing: it is passed over, not judged.
        """
        per_key = self.per_key
        by_key = [replies[i : i + per_key] for i in range(0, len(replies), per_key)]
        kept = list(range(len(by_key)))
        errors = any(issubclass(kind, Exception) for kind in set(map(type, replies)))
        if errors or [] in replies:  # the usual page has neither: one C-level pass each
            kept = [
                i
                for i, r in enumerate(by_key)
                if [] not in r and not any(isinstance(x, Exception) for x in r)
            ]
            by_key, lengths = [by_key[i] for i in kept], [lengths[i] for i in kept]
        for index, kind, reason in self._judge(by_key, lengths):
            yield kept[index], kind, reason

    def _judge(self, by_key: list[list[Any]], lengths: list[int]) -> Iterator[Finding]:
        kind = self.pattern.type
        if kind == "hash":
            if self.field_ttls:
                self._count_field_ttls([r[1] for r in by_key])
            yield from self._hashes([r[0] for r in by_key], lengths)
        elif kind == "stream":
            yield from self._entries([r[0] for r in by_key])
        elif kind == "zset":
            if self.validator is not None:
                yield from self._members([r[0] for r in by_key])
            if self.scores:
                counts = [r[-1] for r in by_key]
                if counts != lengths:  # the usual page: every member within the range
                    for index, (within, length) in enumerate(zip(counts, lengths, strict=True)):
                        if within.__class__ is not int or within < length:  # read, not trusted
                            yield index, SCORES_TO_READ, ""
        else:
            yield from self._members([r[0] for r in by_key])

    def _count_field_ttls(self, replies: list[list[int]]) -> None:
        ttls = [t for reply in replies for t in reply if t >= 0]
        self.field_ttl_counts[0] += sum(len(reply) - reply.count(-2) for reply in replies)
        self.field_ttl_counts[1] += len(ttls)
        if ttls:
            low, high = min(ttls), max(ttls)
            self.field_ttl_low = low if self.field_ttl_low is None else min(low, self.field_ttl_low)
            self.field_ttl_high = high if self.field_ttl_high is None else max(high, self.field_ttl_high)

    def _hashes(self, values: list[list[bytes | None]], lengths: list[int]) -> Iterator[Finding]:
        if not self.pattern.extra_fields:
            present = [len(row) - row.count(None) for row in values]
            for index, (found, length) in enumerate(zip(present, lengths, strict=True)):
                if length > found:
                    more = length - found
                    yield index, "extra_field", f"{more} field{'s' * (more > 1)} not in the contract"
        if self.rows is None:
            names = self.fields
            rows = [{n: v for n, v in zip(names, row, strict=True) if v is not None} for row in values]
            yield from _validate(self.validator, rows, range(len(rows)))
            return
        try:
            self.rows.validate_python(values)
        except ValidationError as e:
            yield from self._row_errors(e, values)

    def _row_errors(self, error: ValidationError, values: list[list[bytes | None]]) -> Iterator[Finding]:
        """HMGET rows judged as tuples: an error at a field whose value is nil is a missing field."""
        seen: set[int] = set()
        for each in error.errors(include_url=False, include_input=False, include_context=False):
            index, position = int(each["loc"][0]), int(each["loc"][1])
            if index in seen:
                continue
            seen.add(index)
            name = self.fields[position]
            if values[index].count(None) == len(self.fields):
                continue  # deleted since HLEN (or none of its fields declared: an extra_field already)
            if values[index][position] is None:
                yield index, "missing_field", f"{name}: field required"
            else:
                message = _QUOTED.sub("`...`", str(each["msg"]))
                yield index, "mistyped_field", ".".join([name, *map(str, each["loc"][2:])]) + f": {message}"

    def _entries(self, streams: list[list[Any]]) -> Iterator[Finding]:
        rows, owners = [], []
        for index, entries in enumerate(streams):
            for _, flat in entries:
                rows.append(
                    {f.decode("utf-8", "replace"): v for f, v in zip(flat[0::2], flat[1::2], strict=True)}
                )
                owners.append(index)
        yield from _validate(self.validator, rows, owners)

    def _members(self, members: list[list[bytes]]) -> Iterator[Finding]:
        if self.validator is None:
            return
        flat = [m for each in members for m in each]
        owners = [index for index, each in enumerate(members) for _ in each]
        yield from _validate(self.validator, flat, owners)

    def _scores(self, lowest_highest: list[tuple[bytes, bytes]]) -> Iterator[Finding]:
        """Each key's lowest and highest score against the range: one C-level pass when all fit."""
        low, high = self.pattern.min_score, self.pattern.max_score
        try:
            lowest = list(map(float, [first for first, _ in lowest_highest]))
            highest = list(map(float, [last for _, last in lowest_highest]))
        except (TypeError, ValueError):
            raise InvalidResponse("a sorted set's score that is not a number, in the key census") from None
        if (low is None or not lowest or min(lowest) >= low) and (
            high is None or not highest or max(highest) <= high
        ):
            return
        for index, (first, last) in enumerate(zip(lowest, highest, strict=True)):
            if low is not None and first < low:
                yield index, "score_out_of_range", f"score {first:g} below the minimum {low:g}"
            elif high is not None and last > high:
                yield index, "score_out_of_range", f"score {last:g} above the maximum {high:g}"


def _row_validator(model: Any) -> TypeAdapter[Any] | None:
    """The model's fields as a tuple, in declaration (HMGET) order: 5-8x faster than the model
    from a dict. None when the model has validators of its own, which only the model runs."""
    decorators = model.__pydantic_decorators__
    if any((decorators.validators, decorators.field_validators, decorators.model_validators)):
        return None
    strict = [Strict()] if model.model_config.get("strict") else []
    fields = tuple(Annotated[(f.annotation, f, *strict)] for f in model.model_fields.values())
    return TypeAdapter(list[tuple[fields]])  # type: ignore[valid-type]


def _validate(validator: Any, values: list[Any], owners: Any) -> Iterator[Finding]:
    """The first error of each key whose values (owned by index) break the validator."""
    if validator is None or not values:
        return
    try:
        validator.validate_python(values)
    except ValidationError as e:
        seen: set[int] = set()
        for error in e.errors(include_url=False, include_input=False, include_context=False):
            value_index = int(error["loc"][0])
            owner = owners[value_index]
            if owner not in seen:
                seen.add(owner)
                value = values[value_index]
                yield owner, *kind_of(error, value if isinstance(value, bytes) else b"")


def kind_of(error: Any, raw: bytes) -> tuple[str, str]:
    """The violation kind and reason of a value's first validation error; never its content."""
    field = ".".join(str(part) for part in error["loc"][1:])
    message = _QUOTED.sub("`...`", str(error["msg"]))
    if error["type"] == "json_invalid":
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as e:
            return "not_utf8", f"invalid UTF-8 at byte {e.start}"
        return "invalid_json", message
    if error["type"] == "missing":
        return "missing_field", f"{field}: field required"
    if error["type"] == "extra_forbidden":
        return "extra_field", f"{field}: not in the contract"
    return "mistyped_field", f"{field or 'value'}: {message}"


def member_bounds(
    pattern: KeyPattern, keys: list[bytes], lengths: list[int], top: int
) -> Iterator[tuple[bytes, str, str]]:
    """Keys with more (or fewer) fields, members or entries than the pattern allows."""
    low, high = pattern.min_members, pattern.max_members
    unit = UNIT[pattern.type]
    if high is not None and top > high:
        for key, n in zip(keys, lengths, strict=True):
            if n > high:
                yield key, "too_many_members", f"{n:,} {unit}, above the maximum of {high:,}"
    if low is not None and min(lengths) < low:
        for key, n in zip(keys, lengths, strict=True):
            if n < low:
                yield key, "too_few_members", f"{n:,} {unit}, below the minimum of {low:,}"


def _one_scored(reply: Any) -> bool:
    """A one-member ZRANGE ... WITHSCORES reply: [member, score]."""
    return isinstance(reply, list) and len(reply) == 2
