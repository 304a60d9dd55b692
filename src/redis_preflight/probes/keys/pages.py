"""Sorting a SCAN page into the contract's patterns without a Python step per key."""

from __future__ import annotations

from bisect import bisect_left
from typing import Generic, TypeVar

T = TypeVar("T")


class Sorter(Generic[T]):
    """Splits a page of key names by prefix; the longest matching prefix wins.

    Sorted, the keys that start with a prefix are one slice, found by bisection: the cost is
    the C-level sort of the page, not a prefix test per key and pattern.
    """

    def __init__(self, prefixes: dict[bytes, T]) -> None:
        longest_first = sorted(prefixes, key=len, reverse=True)
        self.ranges = [(prefix, successor(prefix), prefixes[prefix]) for prefix in longest_first]

    def sort(self, page: list[bytes]) -> tuple[list[tuple[T, list[bytes]]], list[bytes]]:
        """(owner, its keys) per prefix, in longest-first order, and the keys no prefix matches."""
        page.sort()
        claimed: list[tuple[int, int]] = []
        groups: list[tuple[T, list[bytes]]] = []
        for prefix, after, owner in self.ranges:
            low = bisect_left(page, prefix)
            high = bisect_left(page, after, low) if after else len(page)
            groups.append(
                (owner, [key for start, end in gaps(low, high, claimed) for key in page[start:end]])
            )
            claimed = sorted([*claimed, (low, high)])
        unmatched = [key for start, end in gaps(0, len(page), claimed) for key in page[start:end]]
        return groups, unmatched


def successor(prefix: bytes) -> bytes:
    """The smallest name after every name that starts with `prefix` (b"" if there is none)."""
    stripped = prefix.rstrip(b"\xff")
    return stripped[:-1] + bytes([stripped[-1] + 1]) if stripped else b""


def gaps(low: int, high: int, claimed: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The parts of [low, high) outside the sorted, nested-or-disjoint `claimed` ranges."""
    found = []
    for start, end in claimed:
        if end <= low or start >= high:
            continue
        if start > low:
            found.append((low, start))
        low = max(low, end)
    if low < high:
        found.append((low, high))
    return found
