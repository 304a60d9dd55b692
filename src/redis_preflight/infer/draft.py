"""A starting contract drawn from a sample of a live keyspace (`redis-preflight contract infer`).

Everything here is a guess the user then tightens: each family's Redis type, a value schema
that every sampled value keeps, a TTL policy the sampled keys keep, bounds with headroom
(member counts and scores up to the next power of ten). Verifying the same keyspace with the
draft passes; the comments say how many keys each guess rests on.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter

from redis_preflight.contract.schema import IpAddress
from redis_preflight.probes.keys.census import duration
from redis_preflight.probes.keys.expiry import busiest_window
from redis_preflight.probes.keys.names import printable
from redis_preflight.probes.keys.sample import Family, KeyspaceSample

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_BARE = re.compile(r"^[A-Za-z0-9_-]+$")
_NICE_S = (60, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400, 172800, 604800, 1209600, 2592000)
_HERD_WINDOW_MS, HERD_MIN_KEYS = 5000, 20
_NO_VALUE = object()
_IP = TypeAdapter(IpAddress)
MAX_PATTERNS = 50
TYPES = ("string", "hash", "list", "set", "zset", "stream")


def draft(sample: KeyspaceSample) -> str:
    """The contract file's text, one commented `[[patterns]]` per family, largest first."""
    scope = "the whole keyspace" if sample.complete else f"{sample.scanned:,} of {sample.dbsize:,} keys"
    lines = [
        "# A starting contract inferred by `redis-preflight contract infer` from "
        f"{scope} ({sample.elapsed_s:.1f} s).",
        "# Tighten it: every bound below is what the sample kept, with headroom. Schema: docs/contracts.md",
    ]
    names: set[str] = set()
    families = sorted(sample.families.values(), key=lambda f: (-f.keys, f.prefix))
    for family in families[:MAX_PATTERNS]:
        lines += ["", *pattern_lines(family, _name(family.prefix, names))]
    rest = sum(f.keys for f in families[MAX_PATTERNS:]) + sample.left_out
    if rest:
        lines += [
            "",
            f"# {rest:,} keys of smaller families left out: the draft keeps the {MAX_PATTERNS} largest",
        ]
    return "\n".join(lines) + "\n"


def _name(prefix: bytes, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9_.-]+", ".", printable(prefix)).strip(".") or "keys"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    return name


def pattern_lines(family: Family, name: str) -> list[str]:
    kind = family.redis_type
    commonest = sorted(family.templates.items(), key=lambda item: (-item[1], item[0]))[:3]
    templates = ", ".join(printable(t) for t, _ in commonest)
    types = ", ".join(f"{t} {n:,}" for t, n in family.types.most_common())
    lines = [f"# {templates}: inferred from {family.keys:,} keys ({types})"]
    if kind not in TYPES:  # a module's type (ReJSON-RL, graphdata, ...): no contract for it
        return [*lines, f"# a {kind} is not a type a contract describes: left out"]
    if len(family.types) > 1:
        lines.append(f"# keys of other types share this prefix: the contract describes the {kind}s")
    table: dict[str, Any] = {"name": name, "prefix": printable(family.prefix), "type": kind}
    if family.jwt_keys == family.keys:
        table["secret_in_name"] = True
    subtable: dict[str, Any] = {}
    if kind in ("hash", "stream"):
        subtable = _fields(family.values)
        if kind == "stream" and family.lengths:
            table["members"] = {"max": _ceiling(max(family.lengths))}
    else:
        values = family.values if kind == "string" else [m for each in family.values for m in each]
        table.update(_encoding(values))
        if kind != "string" and family.lengths:
            table["members"] = {"max": _ceiling(max(family.lengths))}
    if kind == "zset" and family.scores:
        table["scores"] = _score_range(min(family.scores), max(family.scores))
    table["ttl"] = _ttl(family, lines)
    body = [f"{key} = {toml_value(value)}" for key, value in table.items()]
    fields = [f"{toml_key(k)} = {toml_value(v)}" for k, v in subtable.items()]
    return [*lines, "[[patterns]]", *body] + (["[patterns.fields]", *fields] if fields else [])


def _ttl(family: Family, comments: list[str]) -> dict[str, Any]:
    if not family.with_ttl:
        comments.append("# no sampled key carries a TTL: coverage 0 accepts that; raise it to require one")
        return {"required": False, "coverage": 0.0}
    low, high = (family.ttl_min_ms or 0) / 1000, (family.ttl_max_ms or 0) / 1000
    share = family.with_ttl / family.keys
    comments.append(f"# TTL seen: {duration(low)} to {duration(high)} on {share:.1%} of the keys")
    policy: dict[str, Any] = {"max": _words(_nice(high * 1.1))}
    if share < 1:
        policy["coverage"] = math.floor(share * 1000) / 1000
    if family.jwt_keys == family.keys and family.jwt_covered == family.keys:
        policy["jwt_exp"] = True
    if family.with_ttl >= HERD_MIN_KEYS:
        together, _ = busiest_window(family.expiries_ms, _HERD_WINDOW_MS)
        bunched = together / len(family.expiries_ms)
        if bunched <= 0.5:
            policy["herd"] = {"window": "5s", "max_share": min(0.5, max(0.1, math.ceil(bunched * 200) / 100))}
        else:
            comments.append(
                f"# {bunched:.0%} of the TTLs end within 5 s of each other already: no herd policy"
            )
    return policy


def _encoding(values: list[bytes]) -> dict[str, Any]:
    """How string values (or members) are written: integer counters, JSON with a schema, or raw."""
    parsed = [_json(v) for v in values]
    if not values or any(p is _NO_VALUE for p in parsed):
        return {"encoding": "raw"}
    if all(isinstance(p, int) and not isinstance(p, bool) for p in parsed):
        return (
            {"encoding": "integer", "schema": {"type": "integer", "minimum": 0}}
            if min(parsed) >= 0
            else {"encoding": "integer"}
        )
    return {"encoding": "json", "schema": schema_of(parsed)}


def _json(value: bytes) -> Any:
    try:
        return json.loads(value)
    except (ValueError, UnicodeDecodeError):
        return _NO_VALUE


def schema_of(values: list[Any], depth: int = 0) -> dict[str, Any]:
    """The narrowest JSON Schema (of the subset contracts translate) every value keeps."""
    kinds = {_kind(v) for v in values}
    nullable = "null" in kinds and len(kinds) > 1
    kinds.discard("null") if nullable else None
    if kinds == {"integer", "number"}:
        kinds = {"number"}
    if len(kinds) != 1:
        return {}
    (kind,) = kinds
    present = [v for v in values if v is not None]
    schema: dict[str, Any] = {"type": kind}
    if kind == "object" and depth < 3:
        schema.update(_properties(present, depth))
    elif kind == "string":
        schema.update(_format(present))
    return {"anyOf": [schema, {"type": "null"}]} if nullable else schema


def _kind(value: Any) -> str:
    for kind, types in (("null", type(None)), ("boolean", bool), ("integer", int), ("number", float)):
        if isinstance(value, types):
            return kind
    return "string" if isinstance(value, str) else "array" if isinstance(value, list) else "object"


def _properties(objects: list[dict[str, Any]], depth: int) -> dict[str, Any]:
    keys = list(dict.fromkeys(k for o in objects for k in o))
    if not keys:
        return {}
    required = [k for k in keys if all(k in o for o in objects)]
    properties = {k: schema_of([o[k] for o in objects if k in o], depth + 1) for k in keys}
    return {"required": required, "properties": properties}


def _format(strings: list[str]) -> dict[str, str]:
    if strings and all(_UUID.match(s) for s in strings):
        return {"format": "uuid"}
    if strings and all(_aware(s) for s in strings):
        return {"format": "date-time"}
    if strings and all(_ip(s) for s in strings):
        return {"format": "ip"}
    return {}


def _ip(text: str) -> bool:
    try:
        _IP.validate_python(text)
    except ValueError:
        return False
    return True


def _aware(text: str) -> bool:
    try:
        return "T" in text and datetime.fromisoformat(text).tzinfo is not None
    except ValueError:
        return False


def _fields(rows: list[dict[str, bytes]]) -> dict[str, Any]:
    """Each field of a hash (or stream entry): its type, and whether every sampled row has it."""
    names = list(dict.fromkeys(name for row in rows for name in row))
    fields: dict[str, Any] = {}
    for name in names:
        values = [row[name] for row in rows if name in row]
        kind = _field_type(values)
        fields[name] = kind if all(name in row for row in rows) else {"type": kind, "required": False}
    return fields


def _field_type(values: Iterable[bytes]) -> str:
    parsed = [_json(v) for v in values]
    if all(isinstance(p, int) and not isinstance(p, bool) for p in parsed):
        return "integer"
    if all(isinstance(p, (int, float)) and not isinstance(p, bool) for p in parsed):
        return "number"
    if all(isinstance(p, (dict, list)) for p in parsed):
        return "json"
    return "string"


def _ceiling(n: float) -> int:
    """The next power of ten above n: room to grow, and still a bound."""
    return int(10 ** (math.floor(math.log10(n)) + 1)) if n >= 1 else 10


def _score_range(low: float, high: float) -> dict[str, float]:
    return {"min": 0 if low >= 0 else -_ceiling(-low), "max": _ceiling(high) if high > 0 else 0}


def _nice(seconds: float) -> float:
    return next((s for s in _NICE_S if s >= seconds), math.ceil(seconds / 86400) * 86400)


def _words(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size:.0f}{unit}"
    return f"{seconds:.0f}s" if seconds >= 1 else f"{seconds * 1000:.0f}ms"


def toml_key(key: str) -> str:
    return key if _BARE.match(key) else json.dumps(key)


def toml_value(value: Any) -> str:
    """A TOML value (inline tables, arrays, JSON-escaped strings, which TOML reads alike)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{ " + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
