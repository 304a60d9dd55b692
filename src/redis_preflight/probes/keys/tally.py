"""One pattern's census in progress: the contract's rules applied page by page, in flat memory.

The census feeds a tally whole pages (lists of keys and replies), so the per-key work stays in
list comprehensions and C builtins; a million keys must not cost a million Python calls each.
"""

from __future__ import annotations

import statistics
from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from redis_preflight.contract import KeyPattern
from redis_preflight.probes.keys.census import Bounds, Example, PatternCensus, Violation, duration
from redis_preflight.probes.keys.expiry import (
    BUCKET_EDGES_MS,
    BUCKETS,
    JWT_TOLERANCE_MS,
    herd_of,
    jwt_exp,
)
from redis_preflight.probes.keys.memory import MemoryTally
from redis_preflight.probes.keys.names import shown
from redis_preflight.probes.keys.shapes import (
    LENGTH_VERB,
    SCORES_TO_READ,
    UNIT,
    Shape,
    kind_of,
    member_bounds,
)

__all__ = ["BUCKETS", "MEMORY_SAMPLE", "Tally", "jwt_exp"]

EXAMPLES = 5
MEMORY_SAMPLE = 20
MEDIAN_SAMPLE = 100_000  # TTLs kept per pattern for the median; SCAN's order makes them random


class Tally:
    """What the census learns about one pattern; `freeze()` gives the frozen result."""

    def __init__(self, pattern: KeyPattern, bounds: Bounds) -> None:
        self.pattern = pattern
        self.prefix = pattern.prefix.encode()
        self.secret_from = len(self.prefix) if pattern.secret_in_name else None
        max_ttl, min_ttl = pattern.ttl.max_ttl, pattern.ttl.min_ttl
        self.max_ttl_ms = int(max_ttl.total_seconds() * 1000) if max_ttl is not None else None
        self.min_ttl_ms = int(min_ttl.total_seconds() * 1000) if min_ttl is not None else None
        self.limit = None if bounds.full_scan else bounds.key_sample
        self.cap = bounds.max_value_bytes
        self.string = pattern.type == "string"
        self.validator = pattern.validator() if self.string else None
        self.shape = None if self.string else Shape(pattern, field_ttls=False)
        self.seen = self.chosen = self.examined = self.with_ttl = 0
        self.ttl_min: int | None = None
        self.ttl_max: int | None = None
        self.ttl_counts = [0] * len(BUCKETS)
        self.ttl_sample = array("q")
        self.expiries = array("q")  # when each sampled key expires (ms), for the herd policy
        self.types: Counter[str] = Counter()
        self.memory = MemoryTally(self.secret_from)
        self.memory_asked = 0
        self.counts: Counter[str] = Counter()
        self.examples: dict[str, list[Example]] = {}
        self.scores_to_read: list[bytes] = []  # keys with members outside the score range

    @property
    def length_verb(self) -> bytes:
        return LENGTH_VERB[self.pattern.type]

    @property
    def asks_members(self) -> bool:
        return self.shape is not None and self.shape.per_key > 0

    def read_field_ttls(self) -> None:
        """The server has per-field hash TTLs (Redis 7.4+): read them for the declared fields."""
        if self.pattern.type == "hash":
            self.shape = Shape(self.pattern, field_ttls=True)

    def choose(self, keys: list[bytes]) -> list[bytes]:
        """Count the keys SCAN returned; the ones still within the sample are examined."""
        self.seen += len(keys)
        if self.limit is not None:
            keys = keys[: max(0, self.limit - self.chosen)]
        self.chosen += len(keys)
        return keys

    def add(self, kind: str, key: bytes, reason: str) -> None:
        self.counts[kind] += 1
        examples = self.examples.setdefault(kind, [])
        if len(examples) < EXAMPLES:
            examples.append(Example(shown(key, self.secret_from), reason))

    def plan(self, keys: list[bytes], lengths: list[Any]) -> tuple[Sequence[int], list[bytes]]:
        """Which keys to ask more about (strings within the cap) and which are of another type.

        The usual page, all of the pattern's type and strings within the cap, costs one
        C-level max() of the lengths.
        """
        try:
            top = max(lengths)
        except TypeError:  # some key is of another type: its length is a WRONGTYPE error
            top = None
        if top.__class__ is not int:  # a page of one key compares nothing: its error is the "max"
            top = None
        if top is not None:
            self._sizes(keys, lengths, top)
            if not self.string or top <= self.cap:
                return range(len(keys)), []
            return self._within_cap(keys, lengths, range(len(keys))), []
        kept = [i for i, n in enumerate(lengths) if n.__class__ is int]
        others = [k for k, n in zip(keys, lengths, strict=True) if n.__class__ is not int]
        if kept:
            kept_lengths = [lengths[i] for i in kept]
            self._sizes([keys[i] for i in kept], kept_lengths, max(kept_lengths))
        return (kept if not self.string else self._within_cap(keys, lengths, kept)), others

    def _sizes(self, keys: list[bytes], lengths: list[int], top: int) -> None:
        self.memory.sizes(keys, lengths, top)
        if not self.string:
            self._bound_members(keys, lengths, top)

    def _within_cap(self, keys: list[bytes], lengths: list[int], kept: Sequence[int]) -> list[int]:
        """The strings whose values may be fetched; the others are oversized findings."""
        for i in (i for i in kept if lengths[i] > self.cap):
            reason = f"{lengths[i]:,} bytes, over the {self.cap:,}-byte cap (--max-value-bytes)"
            self.add("oversized", keys[i], reason)
        return [i for i in kept if lengths[i] <= self.cap]

    def _bound_members(self, keys: list[bytes], lengths: list[int], top: int) -> None:
        for key, kind, reason in member_bounds(self.pattern, keys, lengths, top):
            self.add(kind, key, reason)

    def judge_ttls(self, keys: list[bytes], pttls: list[int], now_ms: int) -> None:
        """The TTL rules of a page; Python looks at single keys only when something is off."""
        self.examined += len(keys) - pttls.count(-2)  # -2: deleted since SCAN
        ttls = [t for t in pttls if t >= 0] if min(pttls) < 0 else pttls
        self._count_ttls(ttls, now_ms)
        if -1 in pttls:
            for key in (k for k, t in zip(keys, pttls, strict=True) if t == -1):
                self.add("no_ttl", key, "no expiry set: the key lives until deleted")
        if ttls and self.max_ttl_ms is not None and max(ttls) > self.max_ttl_ms:
            self._over_max(keys, pttls, self.max_ttl_ms)
        if ttls and self.min_ttl_ms is not None and min(ttls) < self.min_ttl_ms:
            for key, ttl in zip(keys, pttls, strict=True):
                if 0 <= ttl < self.min_ttl_ms:
                    limit = duration(self.min_ttl_ms / 1000)
                    self.add("ttl_under_min", key, f"TTL {duration(ttl / 1000)}, below {limit}")
        if self.pattern.ttl.covers_jwt_exp:
            self._jwt_outlives(keys, pttls, now_ms)

    def _count_ttls(self, ttls: list[int], now_ms: int) -> None:
        """Bucket counts, min and max of a page's TTLs: one C-level sort, a bisection per bucket."""
        if not ttls:
            return
        self.with_ttl += len(ttls)
        ordered = sorted(ttls)
        self.ttl_min = ordered[0] if self.ttl_min is None else min(ordered[0], self.ttl_min)
        self.ttl_max = ordered[-1] if self.ttl_max is None else max(ordered[-1], self.ttl_max)
        edges = [bisect_left(ordered, edge) for edge in BUCKET_EDGES_MS]
        for index, (low, high) in enumerate(zip([0, *edges], [*edges, len(ordered)], strict=True)):
            self.ttl_counts[index] += high - low
        room = MEDIAN_SAMPLE - len(self.ttl_sample)
        self.ttl_sample.extend(ttls[:room])
        if self.pattern.ttl.herd is not None and room > 0:
            self.expiries.extend([now_ms + t for t in ttls[:room]])

    def _over_max(self, keys: list[bytes], pttls: list[int], limit: int) -> None:
        for key, ttl in zip(keys, pttls, strict=True):
            if ttl > limit:
                self.add("ttl_over_max", key, f"TTL {duration(ttl / 1000)}, above {duration(limit / 1000)}")

    def _jwt_outlives(self, keys: list[bytes], pttls: list[int], now_ms: int) -> None:
        start = len(self.prefix)
        for key, ttl in zip(keys, pttls, strict=True):
            exp = jwt_exp(key[start:]) if ttl >= 0 else None
            if exp is not None and ttl + JWT_TOLERANCE_MS < exp * 1000 - now_ms:
                left = exp - now_ms / 1000
                self.add(
                    "ttl_under_jwt_exp",
                    key,
                    f"TTL {duration(ttl / 1000)} but the token expires in {duration(left)}: "
                    "once the key expires the revoked token is accepted again",
                )

    def judge_values(self, keys: list[bytes], values: list[bytes | None]) -> None:
        """Validate fetched values against the pattern's type; one violation per key at most."""
        if None in values:  # deleted or retyped since STRLEN: nothing to judge
            kept = [(k, v) for k, v in zip(keys, values, strict=True) if v is not None]
            keys, values = [k for k, _ in kept], [v for _, v in kept]
        if self.validator is None:
            return
        try:
            self.validator.validate_python(values)
        except ValidationError as e:
            first: dict[int, Any] = {}
            for error in e.errors(include_url=False, include_input=False, include_context=False):
                first.setdefault(int(error["loc"][0]), error)
            for index, error in first.items():
                kind, reason = kind_of(error, values[index] or b"")
                self.add(kind, keys[index], reason)

    def judge_members(self, keys: list[bytes], lengths: list[int], replies: list[Any]) -> None:
        """Judge the fields, members, scores or entries read of a page's keys (not strings)."""
        if self.shape is not None:
            for index, kind, reason in self.shape.judge(replies, lengths):
                if kind == SCORES_TO_READ:
                    self.scores_to_read.append(keys[index])
                else:
                    self.add(kind, keys[index], reason)

    def judge_scores(self, keys: list[bytes], replies: list[Any]) -> None:
        """The lowest and highest score of keys whose members were not all within the range."""
        if self.shape is not None:
            for index, kind, reason in self.shape.judge_scores(replies):
                self.add(kind, keys[index], reason)

    def judge_types(self, keys: list[bytes], types: list[Any]) -> None:
        for key, kind in zip(keys, types, strict=True):
            name = kind.decode() if isinstance(kind, bytes) else "unknown"
            if name not in ("none", self.pattern.type):
                self.types[name] += 1
                self.add("wrong_type", key, f"a {name}, not a {self.pattern.type}")

    def note_memory(self, usages: list[Any]) -> None:
        self.memory.usages(usages)

    def freeze(self, complete: bool, scale: float) -> PatternCensus:
        """The result; `scale` extrapolates counts when the scan stopped before the end."""
        own = self.examined - sum(self.types.values())
        types = (((self.pattern.type, own),) if own else ()) + tuple(self.types.most_common())
        count = self.seen if complete else round(self.seen * scale)
        self._herd()
        return PatternCensus(
            name=self.pattern.name,
            glob=self.pattern.glob,
            policy=self.pattern.ttl,
            seen=self.seen,
            count=count,
            counted=complete,
            examined=self.examined,
            with_ttl=self.with_ttl,
            ttl_min_s=None if self.ttl_min is None else self.ttl_min / 1000,
            ttl_median_s=self._median_s(),
            ttl_max_s=None if self.ttl_max is None else self.ttl_max / 1000,
            ttl_buckets=self._buckets(),
            types=types,
            memory_per_key=self.memory.mean,
            memory_note=self.memory.note(),
            violations=tuple(
                Violation(kind, n, tuple(self.examples[kind])) for kind, n in self.counts.most_common()
            ),
            redis_type=self.pattern.type,
            memory=self.memory.estimate(count, UNIT[self.pattern.type]),
            field_ttls=self._field_ttls(),
        )

    def _herd(self) -> None:
        herd = self.pattern.ttl.herd
        found = herd_of(herd, self.expiries) if herd is not None else None
        if found is not None:
            self.counts["synchronized_expiry"], reason = found
            self.examples["synchronized_expiry"] = [Example(self.pattern.glob, reason)]

    def _field_ttls(self) -> str:
        if self.shape is None or not self.shape.field_ttls:
            return ""
        fields, with_ttl = self.shape.field_ttl_counts
        low, high = self.shape.field_ttl_low, self.shape.field_ttl_high
        spread = f" ({duration(low / 1000)} to {duration(high / 1000)})" if low is not None and high else ""
        return f"{with_ttl:,} of {fields:,} hash fields read carry a TTL of their own{spread}"

    def _median_s(self) -> float | None:
        return statistics.median(self.ttl_sample) / 1000 if self.ttl_sample else None

    def _buckets(self) -> tuple[tuple[str, int], ...]:
        labelled = tuple((label, n) for (_, label), n in zip(BUCKETS, self.ttl_counts, strict=True))
        return (("no TTL", self.counts["no_ttl"]), *labelled)
