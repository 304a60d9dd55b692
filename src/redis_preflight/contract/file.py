"""The declarative contract: a TOML file (or the `[tool.redis-preflight.contract]` table of a
pyproject.toml) read into the same `Contract` a Python module gives. docs/contracts.md has the
schema; examples/goals_tracker.toml is the default contract written this way.
"""

from __future__ import annotations

import importlib
import json
import re
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator, Json, Strict, ValidationError, create_model

from redis_preflight.contract.model import Contract, ContractError, Herd, KeyPattern, TtlPolicy
from redis_preflight.contract.schema import _FORMATS, schema_type

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d)?\s*$")
_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, None: 1}
_PATTERN_KEYS = {
    "name", "prefix", "type", "encoding", "schema", "schema_file", "model", "fields", "extra_fields",
    "secret_in_name", "members", "scores", "ttl",
}  # fmt: skip
_TTL_KEYS = {"required", "max", "min", "coverage", "max_without_ttl", "jwt_exp", "why", "herd"}
# Hash fields and stream entry fields arrive as text: their types parse it (lax), never JSON.
_FIELD_TYPES: dict[str, Any] = {
    "string": str,
    "integer": Annotated[int, Strict(False)],
    "number": Annotated[float, Strict(False)],
    "boolean": Annotated[bool, Strict(False)],
    "json": Annotated[Any, Json()],  # type: ignore[type-arg]
    **{name: Annotated[kind, Strict(False)] for name, kind in _FORMATS.items()},
}


def _text(value: Any) -> Any:
    return value.decode("utf-8") if isinstance(value, bytes) else value


def load_file(path: Path) -> Contract:
    """The contract of a .toml file: its `[[patterns]]`, or pyproject's tool table."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ContractError(f"contract {path} (--contract) cannot be read: {e}") from None
    if path.name == "pyproject.toml":
        document = document.get("tool", {}).get("redis-preflight", {}).get("contract")
        if document is None:
            raise ContractError(f"{path} has no [tool.redis-preflight.contract] table (--contract)")
    return from_table(document, path.parent, str(path))


def from_table(document: dict[str, Any], base: Path, where: str) -> Contract:
    """A contract from the parsed TOML; `base` resolves schema files, `where` names the source."""
    patterns = document.get("patterns")
    if not isinstance(patterns, list) or not patterns:
        raise ContractError(f"contract {where} has no [[patterns]]")
    built = []
    for index, table in enumerate(patterns):
        name = table.get("name", f"#{index + 1}") if isinstance(table, dict) else f"#{index + 1}"
        try:
            built.append(_pattern(table, base))
        except (ValidationError, ValueError, TypeError, KeyError, ImportError, OSError) as e:
            raise ContractError(f"contract {where}, pattern {name}: {_said(e)}") from None
    try:
        return Contract(patterns=tuple(built))
    except ValidationError as e:
        raise ContractError(f"contract {where}: {_said(e)}") from None


def _said(error: Exception) -> str:
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        return f"{where}: {first['msg']}" if where else str(first["msg"])
    return str(error)


def _pattern(table: dict[str, Any], base: Path) -> KeyPattern:
    unknown = set(table) - _PATTERN_KEYS
    if unknown:
        raise ValueError(
            f"unknown keys {', '.join(sorted(unknown))} (known: {', '.join(sorted(_PATTERN_KEYS))})"
        )
    name, kind = table["name"], table.get("type", "string")
    extra = bool(table.get("extra_fields", False))
    encoding = table.get("encoding", "json")
    if kind in ("hash", "stream"):
        fields = table.get("fields")
        value = _fields_model(fields, name, base) if fields is not None else _value(table, name, base)
    else:
        value = _value(table, name, base, extra)
        if encoding == "integer":
            encoding, value = "json", value if value is not None else Annotated[int, Strict()]
        elif encoding == "raw" and value is not None:
            value = Annotated[value, BeforeValidator(_text)]
    members, scores = table.get("members", {}), table.get("scores", {})
    return KeyPattern(
        name=name,
        prefix=table["prefix"],
        type=kind,
        value=value,
        encoding=encoding,
        ttl=_ttl(table.get("ttl", {})),
        extra_fields=extra,
        min_members=members.get("min"),
        max_members=members.get("max"),
        min_score=scores.get("min"),
        max_score=scores.get("max"),
        secret_in_name=table.get("secret_in_name", False),
    )


def _value(table: dict[str, Any], name: str, base: Path, extra: bool = True) -> Any:
    """The type of a value from `schema`, `schema_file` or `model`; None when none is given."""
    given = [key for key in ("schema", "schema_file", "model") if key in table]
    if len(given) > 1:
        raise ValueError(f"give one of schema, schema_file, model (found {', '.join(given)})")
    if "schema" in table:
        return schema_type(table["schema"], name, extra=extra)
    if "schema_file" in table:
        schema = json.loads((base / table["schema_file"]).read_text(encoding="utf-8"))
        return schema_type(schema, name, extra=extra)
    if "model" in table:
        return imported(table["model"])
    return None


def imported(path: str) -> Any:
    """`package.module:Name`: the application's own pydantic model (or any type)."""
    module, _, attribute = path.partition(":")
    if not attribute:
        raise ValueError(f"model {path!r} must be package.module:Name")
    return getattr(importlib.import_module(module), attribute)


def _fields_model(fields: dict[str, Any], name: str, base: Path) -> Any:
    """A pydantic model of a hash's (or stream entry's) fields; each arrives as text."""
    declared: dict[str, Any] = {}
    for field, spec in fields.items():
        spec = {"type": spec} if isinstance(spec, str) else dict(spec)
        required = spec.pop("required", True)
        if set(spec) & {"schema", "schema_file", "model"}:
            kind: Any = Annotated[_value(spec, f"{name}.{field}", base), Json()]  # type: ignore[type-arg]
        elif spec.get("type", "string") in _FIELD_TYPES:
            kind = _FIELD_TYPES[spec.get("type", "string")]
        else:
            raise ValueError(
                f"field {field}: type {spec.get('type')!r} is not one of {', '.join(_FIELD_TYPES)}"
            )
        declared[field] = (kind, ...) if required else (kind | None, None)
    return create_model(f"{name.title().replace('_', '')}Fields", **declared)


def duration(value: Any) -> timedelta:
    """Seconds as a number, or text like "90s", "15min", "24h", "7d", "500ms"."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return timedelta(seconds=value)
    match = _DURATION.match(str(value))
    if match is None:
        raise ValueError(f"duration {value!r}: give seconds, or a number with ms, s, min, h or d")
    return timedelta(seconds=float(match[1]) * _SECONDS[match[2]])


def _ttl(table: dict[str, Any]) -> TtlPolicy:
    unknown = set(table) - _TTL_KEYS
    if unknown:
        raise ValueError(
            f"ttl: unknown keys {', '.join(sorted(unknown))} (known: {', '.join(sorted(_TTL_KEYS))})"
        )
    herd = table.get("herd")
    return TtlPolicy(
        required=table.get("required", True),
        max_ttl=duration(table["max"]) if "max" in table else None,
        min_ttl=duration(table["min"]) if "min" in table else None,
        coverage=table.get("coverage"),
        max_without_ttl=table.get("max_without_ttl"),
        herd=None if herd is None else Herd(**{**herd, "window": duration(herd.get("window", 5))}),
        covers_jwt_exp=table.get("jwt_exp", False),
        why=table.get("why", ""),
    )
