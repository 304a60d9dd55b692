"""What a key census observed: per pattern, the keys examined and how they broke the contract.

Frozen results of `probes.keys.take_census`; the checks assert on them and the report draws them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from redis_preflight.contract import TtlPolicy


class Rule(StrEnum):
    """What a check asserts for each pattern."""

    SHAPE = "shape"
    TTL = "ttl"
    TTL_BOUNDS = "ttl_bounds"


# kind -> (rule, how a finding names it)
KINDS: dict[str, tuple[Rule, str]] = {
    "wrong_type": (Rule.SHAPE, "wrong Redis type"),
    "oversized": (Rule.SHAPE, "value over the size cap, not fetched"),
    "not_utf8": (Rule.SHAPE, "not UTF-8"),
    "invalid_json": (Rule.SHAPE, "invalid JSON"),
    "missing_field": (Rule.SHAPE, "missing field"),
    "extra_field": (Rule.SHAPE, "unexpected field"),
    "mistyped_field": (Rule.SHAPE, "wrong type or value"),
    "too_many_members": (Rule.SHAPE, "more members than the maximum"),
    "too_few_members": (Rule.SHAPE, "fewer members than the minimum"),
    "score_out_of_range": (Rule.SHAPE, "score out of range"),
    "no_ttl": (Rule.TTL, "no TTL"),
    "ttl_over_max": (Rule.TTL_BOUNDS, "TTL above the maximum"),
    "ttl_under_min": (Rule.TTL_BOUNDS, "TTL below the minimum"),
    "ttl_under_jwt_exp": (Rule.TTL_BOUNDS, "TTL ends before the token expires"),
    "synchronized_expiry": (Rule.TTL_BOUNDS, "expiring together"),
}


class CensusStopped(Exception):
    """The server's replies contradict each other (a SCAN cursor that comes round again, a value
    longer than its STRLEN): going on would never end, or trust what the server got wrong."""


class CensusFailed(Exception):
    """A server of the census failed (went away, answered out of bounds): `error` says how,
    `index` which of the clients it was (the target, or one primary of a cluster)."""

    def __init__(self, index: int, error: BaseException) -> None:
        super().__init__(str(error))
        self.index, self.error = index, error


@dataclass(frozen=True)
class Bounds:
    """How much a census may look at and how hard it may push."""

    key_sample: int = 1000
    scan_budget_s: float = 10.0
    full_scan: bool = False
    max_ops_per_sec: int | None = None
    max_value_bytes: int = 1 << 20

    def describe(self) -> str:
        reach = (
            "full scan"
            if self.full_scan
            else f"{self.key_sample:,} keys per pattern, {self.scan_budget_s:g} s"
        )
        throttle = f", at most {self.max_ops_per_sec:,} ops/s" if self.max_ops_per_sec else ""
        return f"{reach}, values up to {self.max_value_bytes:,} bytes{throttle}"


@dataclass(frozen=True)
class Example:
    key: str  # as keynames.shown() renders it: printable, masked
    reason: str  # the field and what is wrong with it; never the value


@dataclass(frozen=True)
class Violation:
    kind: str
    count: int
    examples: tuple[Example, ...]

    @property
    def rule(self) -> Rule:
        return KINDS[self.kind][0]

    @property
    def label(self) -> str:
        return KINDS[self.kind][1]


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes per key of a pattern and for all of it, each with a 95% confidence interval."""

    per_key: float | None
    per_key_ci: tuple[float, float] | None
    total_ci: tuple[float, float] | None
    method: str  # how it was measured: "MEMORY USAGE of 20 keys", or from lengths
    largest: tuple[tuple[str, int], ...]  # (masked key, length) of the longest keys examined
    unit: str  # what the lengths count: bytes, fields, members, entries


@dataclass(frozen=True)
class PatternCensus:
    name: str
    glob: str
    policy: TtlPolicy
    seen: int  # keys SCAN returned
    count: int  # seen, or extrapolated to the whole keyspace when the scan stopped early
    counted: bool  # count is a count, not an estimate
    examined: int
    with_ttl: int
    ttl_min_s: float | None
    ttl_median_s: float | None
    ttl_max_s: float | None
    ttl_buckets: tuple[tuple[str, int], ...]
    types: tuple[tuple[str, int], ...]
    memory_per_key: float | None
    memory_note: str
    violations: tuple[Violation, ...]
    redis_type: str = "string"
    memory: MemoryEstimate | None = None
    field_ttls: str = ""  # what the per-field hash TTLs read say (Redis 7.4+), or nothing

    def breaks(self, rule: Rule) -> bool:
        """Whether the pattern breaks a rule: any violation, or for TTL one beyond the tolerance."""
        if rule is Rule.TTL and self.policy.tolerates_missing:
            return self.ttl_tolerance() is not None
        return self.failures(rule) > 0

    def ttl_tolerance(self) -> str | None:
        """Under a coverage or budget policy, how the keys without TTL exceed it; None if not."""
        missing = self.failures(Rule.TTL)
        if not self.examined:
            return None
        coverage = 1 - missing / self.examined
        if self.policy.coverage is not None and coverage < self.policy.coverage:
            return f"{coverage:.2%} carry a TTL, under the {self.policy.coverage:.2%} the policy asks"
        budget = self.policy.max_without_ttl
        estimate = round(missing * self.count / self.examined)
        if budget is not None and estimate > budget:
            about = "" if not self.sampled else "about "
            return f"{about}{estimate:,} keys without TTL, over the budget of {budget:,}"
        return None

    def broken(self, rule: Rule) -> tuple[Violation, ...]:
        return tuple(v for v in self.violations if v.rule == rule)

    def failures(self, rule: Rule) -> int:
        return sum(v.count for v in self.broken(rule))

    @property
    def sampled(self) -> bool:
        return self.examined < self.count


@dataclass(frozen=True)
class Census:
    patterns: tuple[PatternCensus, ...]
    unmatched: tuple[tuple[str, int], ...]  # shown prefix glob, keys seen
    dbsize: int
    scanned: int
    complete: bool  # the SCAN cursor went all the way round
    elapsed_s: float
    bounds: Bounds
    # Why the census stopped before its bounds did: a server whose replies contradict each other.
    stopped: str | None = None

    def pattern(self, name: str) -> PatternCensus:
        return next(p for p in self.patterns if p.name == name)

    @property
    def examined(self) -> int:
        return sum(p.examined for p in self.patterns)

    @property
    def unmatched_total(self) -> int:
        return sum(count for _, count in self.unmatched)

    @property
    def keys_per_s(self) -> float:
        return self.scanned / self.elapsed_s if self.elapsed_s else 0.0


def wilson(failures: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% confidence interval of a rate seen in a sample (Wilson score interval)."""
    if n == 0:
        return 0.0, 1.0
    p = failures / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def duration(seconds: float) -> str:
    """A duration the way a person says it: 45 s, 12 min, 3.5 h, 8 d."""
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if abs(seconds) >= size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:.3g} s"
