"""One pattern's census in progress: the contract's rules applied page by page, in flat memory.

The census feeds a tally whole pages (lists of keys and replies), so the per-key work stays in
list comprehensions and C builtins; a million keys must not cost a million Python calls each.
"""

from __future__ import annotations

import binascii
import math
import re
import statistics
from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError
from pydantic_core import from_json

from redis_preflight.contract import KeyPattern
from redis_preflight.probes.keys.census import Bounds, Example, PatternCensus, Violation, duration
from redis_preflight.probes.keys.names import shown

EXAMPLES = 5
MEMORY_SAMPLE = 20
MEDIAN_SAMPLE = 100_000  # TTLs kept per pattern for the median; SCAN's order makes them random
JWT_TOLERANCE_MS = 2000  # the application rounds the TTL it sets to whole seconds
BUCKETS = (  # (upper bound in seconds, label) for the TTL picture: [previous bound, bound)
    (60, "< 1 min"),
    (600, "1-10 min"),
    (3600, "10 min-1 h"),
    (6 * 3600, "1-6 h"),
    (86400, "6-24 h"),
    (7 * 86400, "1-7 d"),
    (30 * 86400, "7-30 d"),
    (math.inf, ">= 30 d"),
)
_BUCKET_EDGES_MS = [edge * 1000 for edge, _ in BUCKETS[:-1]]
_QUOTED = re.compile(r"`[^`]*`")
_B64URL = bytes.maketrans(b"-_", b"+/")


def jwt_exp(token: bytes) -> int | None:
    """The `exp` claim of a JWT, read without verifying the signature; None if not a JWT."""
    parts = token.split(b".")
    if len(parts) != 3:
        return None
    try:
        claims = from_json(binascii.a2b_base64(parts[1].translate(_B64URL) + b"=="))
    except ValueError:
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    return int(exp) if isinstance(exp, (int, float)) and not isinstance(exp, bool) else None


def _kind_of(error: Any, raw: bytes) -> tuple[str, str]:
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


class Tally:
    """What the census learns about one pattern; `freeze()` gives the frozen result."""

    def __init__(self, pattern: KeyPattern, bounds: Bounds) -> None:
        self.pattern = pattern
        self.prefix = pattern.prefix.encode()
        self.secret_from = len(self.prefix) if pattern.secret_in_name else None
        max_ttl = pattern.ttl.max_ttl
        self.max_ttl_ms = int(max_ttl.total_seconds() * 1000) if max_ttl is not None else None
        self.limit = None if bounds.full_scan else bounds.key_sample
        self.cap = bounds.max_value_bytes
        self.validator = pattern.validator()
        self.seen = self.chosen = self.examined = self.with_ttl = 0
        self.ttl_min: int | None = None
        self.ttl_max: int | None = None
        self.ttl_counts = [0] * len(BUCKETS)
        self.ttl_sample = array("q")
        self.types: Counter[str] = Counter()
        self.memory: list[int] = []
        self.memory_asked = 0
        self.memory_note = ""
        self.counts: Counter[str] = Counter()
        self.examples: dict[str, list[Example]] = {}

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
        """Which keys to fetch (strings within the cap) and which are of another type.

        The usual page, all strings within the cap, costs one C-level max() of the lengths.
        """
        try:
            if max(lengths) <= self.cap:  # TypeError when some key is not a string
                return range(len(keys)), []
        except TypeError:
            pass
        strings = [i for i, n in enumerate(lengths) if n.__class__ is int]
        for i in (i for i in strings if lengths[i] > self.cap):
            reason = f"{lengths[i]:,} bytes, over the {self.cap:,}-byte cap (--max-value-bytes)"
            self.add("oversized", keys[i], reason)
        others = [k for k, n in zip(keys, lengths, strict=True) if n.__class__ is not int]
        return [i for i in strings if lengths[i] <= self.cap], others

    def judge_ttls(self, keys: list[bytes], pttls: list[int], now_ms: int) -> None:
        """The TTL rules of a page; Python looks at single keys only when something is off."""
        self.examined += len(keys) - pttls.count(-2)  # -2: deleted since SCAN
        ttls = [t for t in pttls if t >= 0] if min(pttls) < 0 else pttls
        self._count_ttls(ttls)
        if -1 in pttls:
            for key in (k for k, t in zip(keys, pttls, strict=True) if t == -1):
                self.add("no_ttl", key, "no expiry set: the key lives until deleted")
        if ttls and self.max_ttl_ms is not None and max(ttls) > self.max_ttl_ms:
            self._over_max(keys, pttls, self.max_ttl_ms)
        if self.pattern.ttl.covers_jwt_exp:
            self._jwt_outlives(keys, pttls, now_ms)

    def _count_ttls(self, ttls: list[int]) -> None:
        """Bucket counts, min and max of a page's TTLs: one C-level sort, a bisection per bucket."""
        if not ttls:
            return
        self.with_ttl += len(ttls)
        ordered = sorted(ttls)
        self.ttl_min = ordered[0] if self.ttl_min is None else min(ordered[0], self.ttl_min)
        self.ttl_max = ordered[-1] if self.ttl_max is None else max(ordered[-1], self.ttl_max)
        edges = [bisect_left(ordered, edge) for edge in _BUCKET_EDGES_MS]
        for index, (low, high) in enumerate(zip([0, *edges], [*edges, len(ordered)], strict=True)):
            self.ttl_counts[index] += high - low
        self.ttl_sample.extend(ttls[: MEDIAN_SAMPLE - len(self.ttl_sample)])

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
        try:
            self.validator.validate_python(values)
        except ValidationError as e:
            first: dict[int, Any] = {}
            for error in e.errors(include_url=False, include_input=False, include_context=False):
                first.setdefault(int(error["loc"][0]), error)
            for index, error in first.items():
                kind, reason = _kind_of(error, values[index] or b"")
                self.add(kind, keys[index], reason)

    def judge_types(self, keys: list[bytes], types: list[Any]) -> None:
        for key, kind in zip(keys, types, strict=True):
            name = kind.decode() if isinstance(kind, bytes) else "unknown"
            if name != "none":
                self.types[name] += 1
                self.add("wrong_type", key, f"a {name}, not a string")

    def note_memory(self, usages: list[Any]) -> None:
        for usage in usages:
            if isinstance(usage, int):
                self.memory.append(usage)
            elif not self.memory_note:
                self.memory_note = f"MEMORY USAGE refused ({str(usage).splitlines()[0][:80]})"

    def freeze(self, complete: bool, scale: float) -> PatternCensus:
        """The result; `scale` extrapolates counts when the scan stopped before the end."""
        strings = self.examined - sum(self.types.values())
        types = ((("string", strings),) if strings else ()) + tuple(self.types.most_common())
        return PatternCensus(
            name=self.pattern.name,
            glob=self.pattern.glob,
            policy=self.pattern.ttl,
            seen=self.seen,
            count=self.seen if complete else round(self.seen * scale),
            counted=complete,
            examined=self.examined,
            with_ttl=self.with_ttl,
            ttl_min_s=None if self.ttl_min is None else self.ttl_min / 1000,
            ttl_median_s=self._median_s(),
            ttl_max_s=None if self.ttl_max is None else self.ttl_max / 1000,
            ttl_buckets=self._buckets(),
            types=types,
            memory_per_key=sum(self.memory) / len(self.memory) if self.memory else None,
            memory_note=self.memory_note or f"MEMORY USAGE of {len(self.memory)} keys",
            violations=tuple(
                Violation(kind, n, tuple(self.examples[kind])) for kind, n in self.counts.most_common()
            ),
        )

    def _median_s(self) -> float | None:
        return statistics.median(self.ttl_sample) / 1000 if self.ttl_sample else None

    def _buckets(self) -> tuple[tuple[str, int], ...]:
        labelled = tuple((label, n) for (_, label), n in zip(BUCKETS, self.ttl_counts, strict=True))
        return (("no TTL", self.counts["no_ttl"]), *labelled)
