"""A bounded, read-only sample of a live keyspace, grouped into key families, for `contract infer`.

SCAN pages (never KEYS) until the sample or the time budget is used up; per page one pipeline of
TYPE and PTTL, then one of bounded reads by type (STRLEN and GETRANGE within the value cap,
HLEN and HRANDFIELD, LLEN and LRANGE, SCARD and SRANDMEMBER, ZCARD and ZRANGE, XLEN and XRANGE),
throttled to --max-ops-per-sec like the census.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import redis

from redis_preflight.probes.keys.census import Bounds
from redis_preflight.probes.keys.expiry import jwt_exp
from redis_preflight.probes.keys.names import family_prefix, template_of

VALUES_KEPT = 500  # values per family kept for the schema
MAX_FAMILIES = 1000  # beyond, keys of new families are only counted: flat memory on any keyspace
MEMBERS_READ = 20
FIELDS_READ = 200
SCAN_COUNT = 200


@dataclass
class Family:
    """What the sample saw of the keys sharing a prefix."""

    prefix: bytes
    templates: Counter[bytes] = field(default_factory=Counter)
    types: Counter[str] = field(default_factory=Counter)
    keys: int = 0
    with_ttl: int = 0
    ttl_min_ms: int | None = None
    ttl_max_ms: int | None = None
    expiries_ms: list[int] = field(default_factory=list)
    jwt_keys: int = 0
    jwt_covered: int = 0  # JWT-named keys whose TTL lasts until the token's exp
    values: list[Any] = field(default_factory=list)  # bytes, dicts of fields, or member lists
    lengths: list[int] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)

    @property
    def redis_type(self) -> str:
        return self.types.most_common(1)[0][0]

    def keep(self, value: Any) -> None:
        if len(self.values) < VALUES_KEPT:
            self.values.append(value)


@dataclass
class KeyspaceSample:
    families: dict[bytes, Family]
    dbsize: int
    scanned: int
    complete: bool
    elapsed_s: float
    left_out: int = 0  # keys of families beyond MAX_FAMILIES


def sample_keyspace(client: redis.Redis, bounds: Bounds) -> KeyspaceSample:
    """Families of up to `bounds.key_sample` keys (all of them with full_scan)."""
    started = time.monotonic()
    families: dict[bytes, Family] = {}
    dbsize, cursor, scanned, ops, left_out = int(client.dbsize()), 0, 0, 0, 0
    while True:
        cursor, names = client.scan(cursor, count=SCAN_COUNT)
        page = [k if isinstance(k, bytes) else k.encode() for k in names]
        scanned += len(page)
        if page:
            read, unplaced = _read_page(client, page, families, bounds)
            ops, left_out = ops + read, left_out + unplaced
            _throttle(ops, started, bounds.max_ops_per_sec)
        done = cursor == 0
        if done or (not bounds.full_scan and (scanned >= bounds.key_sample or _late(started, bounds))):
            break
    return KeyspaceSample(families, dbsize, scanned, cursor == 0, time.monotonic() - started, left_out)


def _late(started: float, bounds: Bounds) -> bool:
    return time.monotonic() - started >= bounds.scan_budget_s


def _throttle(ops: int, started: float, rate: int | None) -> None:
    if rate:
        ahead = ops / rate - (time.monotonic() - started)
        if ahead > 0:
            time.sleep(ahead)


_READS: dict[str, Callable[[bytes, int], list[tuple[Any, ...]]]] = {
    "string": lambda key, cap: [("STRLEN", key), ("GETRANGE", key, 0, cap - 1)],
    "hash": lambda key, _: [("HLEN", key), ("HRANDFIELD", key, FIELDS_READ, "WITHVALUES")],
    "list": lambda key, _: [("LLEN", key), ("LRANGE", key, 0, MEMBERS_READ - 1)],
    "set": lambda key, _: [("SCARD", key), ("SRANDMEMBER", key, MEMBERS_READ)],
    "zset": lambda key, _: [
        ("ZCARD", key),
        ("ZRANGE", key, 0, MEMBERS_READ - 1, "WITHSCORES"),
        ("ZRANGE", key, -1, -1, "WITHSCORES"),
    ],
    "stream": lambda key, _: [("XLEN", key), ("XRANGE", key, "-", "+", "COUNT", MEMBERS_READ)],
}


def _read_page(
    client: redis.Redis, page: list[bytes], families: dict[bytes, Family], bounds: Bounds
) -> tuple[int, int]:
    """TYPE and PTTL of a page's keys, then the bounded reads of each: (commands sent, keys of
    families beyond MAX_FAMILIES)."""
    with client.pipeline(transaction=False) as pipe:
        for key in page:
            pipe.execute_command("TYPE", key)  # type: ignore[no-untyped-call]
            pipe.execute_command("PTTL", key)  # type: ignore[no-untyped-call]
        replies = _refusals_raised(pipe.execute(raise_on_error=False))
    now_ms = int(time.time() * 1000)
    typed = [
        (k, t.decode() if isinstance(t, bytes) else str(t), p)
        for k, t, p in zip(page, replies[0::2], replies[1::2], strict=True)
    ]
    reads = [(k, kind, _READS[kind](k, bounds.max_value_bytes)) for k, kind, _ in typed if kind in _READS]
    with client.pipeline(transaction=False) as pipe:
        for _, _, commands in reads:
            for command in commands:
                pipe.execute_command(*command)  # type: ignore[no-untyped-call]
        answers = iter(_refusals_raised(pipe.execute(raise_on_error=False)))
    contents = {key: [next(answers) for _ in commands] for key, _, commands in reads}
    unplaced = 0
    for key, kind, pttl in typed:
        if kind == "none" or not isinstance(pttl, int):
            continue  # deleted since SCAN
        template = template_of(key)
        prefix = family_prefix(template)
        if prefix not in families and len(families) >= MAX_FAMILIES:
            unplaced += 1
            continue
        family = families.setdefault(prefix, Family(prefix))
        family.templates[template] += 1
        _observe(family, key, kind, pttl, now_ms, contents.get(key), bounds.max_value_bytes)
    return 2 * len(page) + sum(len(commands) for _, _, commands in reads), unplaced


def _refusals_raised(replies: list[Any]) -> list[Any]:
    """Replies, once none is a refusal (NOPERM, an unknown command): a sample missing some reads
    would draft a looser contract without saying so. WRONGTYPE (a key retyped meanwhile) passes."""
    for reply in replies:
        if isinstance(reply, redis.ResponseError) and not str(reply).startswith("WRONGTYPE"):
            raise reply
    return replies


def _observe(family: Family, key: bytes, kind: str, pttl: int, now_ms: int, replies: Any, cap: int) -> None:
    family.keys += 1
    family.types[kind] += 1
    if pttl >= 0:
        family.with_ttl += 1
        family.ttl_min_ms = pttl if family.ttl_min_ms is None else min(pttl, family.ttl_min_ms)
        family.ttl_max_ms = pttl if family.ttl_max_ms is None else max(pttl, family.ttl_max_ms)
        if len(family.expiries_ms) < 100_000:
            family.expiries_ms.append(now_ms + pttl)
    if b"{jwt}" in template_of(key):
        exp = jwt_exp(key[len(family.prefix) :])
        family.jwt_keys += 1
        family.jwt_covered += exp is not None and pttl >= 0 and pttl + 2000 >= exp * 1000 - now_ms
    if replies is None or any(isinstance(r, Exception) for r in replies) or kind != family.redis_type:
        return
    family.lengths.append(int(replies[0]))
    if kind == "string":
        if replies[0] <= cap:
            family.keep(replies[1])
    elif kind == "hash":
        flat = replies[1] or []
        family.keep({f.decode("utf-8", "replace"): v for f, v in zip(flat[0::2], flat[1::2], strict=True)})
    elif kind == "stream":  # redis-py parses XRANGE into (id, {field: value}) pairs
        for _, fields in replies[1]:
            family.keep({f.decode("utf-8", "replace"): v for f, v in fields.items()})
    elif kind == "zset":
        family.keep(replies[1][0::2])
        if replies[1]:
            family.scores += [float(replies[1][1]), float(replies[2][1])]
    else:
        family.keep(list(replies[1]))
