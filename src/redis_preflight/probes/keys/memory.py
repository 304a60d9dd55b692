"""Memory per pattern: MEMORY USAGE of a sample with a confidence interval, the largest keys.

MEMORY USAGE answers for the first MEMORY_SAMPLE keys of each pattern. Where it is refused
(ACLs, managed services) the census still has every examined key's length (STRLEN, HLEN,
ZCARD, ...): for strings that bounds the memory from below, for collections it counts members.
The largest keys are the longest, by the same lengths, over every key examined.
"""

from __future__ import annotations

import heapq
import math
import statistics
from typing import Any

from redis_preflight.probes.keys.census import MemoryEstimate
from redis_preflight.probes.keys.names import shown

LARGEST = 5


def _t95(n: int) -> float:
    """About Student's t at 95% for n values (2.09 at 20, 1.98 at 100): the sample is small."""
    return 1.96 + 2.4 / max(1, n - 1)


class MemoryTally:
    """Sizes of one pattern's keys as the census meets them, in flat memory."""

    def __init__(self, secret_from: int | None) -> None:
        self.secret_from = secret_from
        self.used: list[int] = []
        self.refused = ""
        self.largest: list[tuple[int, bytes]] = []  # a heap of (length, key), smallest first
        self.n = self.total = self.total_squares = 0

    def sizes(self, keys: list[bytes], lengths: list[int], top: int) -> None:
        """A page's lengths (all ints): running sums, and the longest keys if any beat the kept."""
        self.n += len(lengths)
        self.total += sum(lengths)
        self.total_squares += sum([n * n for n in lengths])
        if len(self.largest) < LARGEST or top > self.largest[0][0]:
            page = heapq.nlargest(LARGEST, zip(lengths, keys, strict=True))
            self.largest = heapq.nlargest(LARGEST, self.largest + page)
            heapq.heapify(self.largest)

    def usages(self, usages: list[Any]) -> None:
        for usage in usages:
            if isinstance(usage, int):
                self.used.append(usage)
            elif not self.refused:
                self.refused = f"MEMORY USAGE refused ({str(usage).splitlines()[0][:80]})"

    @property
    def mean(self) -> float | None:
        return sum(self.used) / len(self.used) if self.used else None

    def note(self) -> str:
        return self.refused or f"MEMORY USAGE of {len(self.used)} keys"

    def estimate(self, count: int, unit: str) -> MemoryEstimate | None:
        """Bytes per key and for the whole pattern, each with its 95% interval."""
        largest = tuple((shown(k, self.secret_from), n) for n, k in sorted(self.largest, reverse=True))
        if len(self.used) >= 2:
            mean, spread = statistics.fmean(self.used), statistics.stdev(self.used)
            method = f"MEMORY USAGE of {len(self.used)} keys"
            n = len(self.used)
        elif self.n >= 2 and unit == "bytes":
            mean = self.total / self.n
            spread = math.sqrt(max(0.0, self.total_squares / self.n - mean * mean))
            method = f"at least the value bytes (STRLEN) of {self.n:,} keys; {self.refused or 'no sample'}"
            n = self.n
        else:
            return MemoryEstimate(None, None, None, self.note(), largest, unit) if largest else None
        half = _t95(n) * spread / math.sqrt(n)
        low, high = max(0.0, mean - half), mean + half
        return MemoryEstimate(mean, (low, high), (low * count, high * count), method, largest, unit)
