"""JSON Schema in a contract: translated to pydantic types where the translation is exact
(fast, and the same strictness as a contract written in Python), validated by the `jsonschema`
library wherever it is not (oneOf, $ref, patternProperties, ...).
"""

from __future__ import annotations

import socket
from typing import Annotated, Any, Literal, Union
from uuid import UUID

import jsonschema
from pydantic import AfterValidator, AwareDatetime, ConfigDict, Field, Strict, create_model

from redis_preflight.contract.model import ContractError

# Keywords the translation handles; a schema with any other falls back to jsonschema.
_KNOWN = {
    "type", "properties", "required", "additionalProperties", "items", "enum", "const", "anyOf",
    "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength",
    "minItems", "maxItems", "format", "title", "description", "$schema", "default", "examples",
}  # fmt: skip
_BOUNDS = {
    "minimum": "ge", "maximum": "le", "exclusiveMinimum": "gt", "exclusiveMaximum": "lt",
    "minLength": "min_length", "maxLength": "max_length", "minItems": "min_length", "maxItems": "max_length",
}  # fmt: skip


def _ip_address(text: str) -> str:
    # pydantic's IPvAnyAddress parses in Python (ipaddress), the C library is 10x faster.
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in text else socket.AF_INET, text)
    except OSError:
        raise ValueError("value is not a valid IPv4 or IPv6 address") from None
    return text


IpAddress = Annotated[str, AfterValidator(_ip_address)]
_FORMATS: dict[str, Any] = {
    "uuid": UUID,
    "date-time": AwareDatetime,
    "ipv4": IpAddress,
    "ipv6": IpAddress,
    "ip": IpAddress,
}
_SCALARS: dict[str, Any] = {"string": str, "integer": int, "number": float, "boolean": bool, "null": None}


def schema_type(schema: dict[str, Any], name: str, *, extra: bool = True) -> Any:
    """The pydantic type a JSON Schema describes; `extra` says whether the top object may carry
    undeclared fields (the pattern's `extra_fields`; nested objects follow additionalProperties)."""
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as e:
        raise ContractError(f"{name}: invalid JSON Schema: {e.message}") from None
    if not _translatable(schema):
        return _checked_by_jsonschema(schema)
    return _translate(schema, name, extra)


def _translatable(schema: Any) -> bool:
    """Whether the translation means exactly what the schema says; otherwise jsonschema judges."""
    if not isinstance(schema, dict):
        return schema is True
    if set(schema) - _KNOWN or schema.get("format", "uuid") not in _FORMATS:
        return False
    if "format" in schema and set(schema) & set(_BOUNDS):  # a bounded uuid or date-time
        return False
    if "anyOf" in schema and set(schema) & {"type", "properties", "enum", "const", *_BOUNDS}:
        return False  # anyOf beside other keywords: both apply, the translation keeps one
    if schema.get("additionalProperties") is False and not schema.get("properties"):
        return False
    parts = [*schema.get("properties", {}).values(), *schema.get("anyOf", [])]
    if isinstance(schema.get("items"), dict):
        parts.append(schema["items"])
    extra = schema.get("additionalProperties", True)
    return isinstance(extra, bool) and all(_translatable(part) for part in parts)


def _translate(schema: dict[str, Any] | bool, name: str, extra: bool = True) -> Any:
    if schema is True or not schema:
        return Any
    assert isinstance(schema, dict)  # noqa: S101 - _translatable let only these through
    if "const" in schema:
        return Literal[schema["const"]]
    if "enum" in schema:
        return Literal[tuple(schema["enum"])]
    if "anyOf" in schema:
        return Union[tuple(_translate(part, name) for part in schema["anyOf"])]  # noqa: UP007
    kinds = schema.get("type")
    if isinstance(kinds, list):
        return Union[tuple(_translate({**schema, "type": kind}, name, extra) for kind in kinds)]  # noqa: UP007
    bounds = {_BOUNDS[k]: v for k, v in schema.items() if k in _BOUNDS}
    if kinds == "object":
        return _object(schema, name, extra)
    if kinds == "array":
        item = _translate(schema.get("items", True), name)
        return Annotated[list[item], Field(**bounds)] if bounds else list[item]  # type: ignore[valid-type]
    if kinds == "string" and "format" in schema:
        return _FORMATS[schema["format"]]
    if kinds is None:
        return Any
    scalar = _SCALARS[kinds]
    return Annotated[scalar, Strict(), Field(**bounds)] if scalar is not None else None


def _object(schema: dict[str, Any], name: str, extra: bool) -> Any:
    required = schema.get("required", [])
    properties = {**dict.fromkeys(required, True), **schema.get("properties", {})}
    if not properties:
        return dict[str, Any]
    fields: dict[str, Any] = {
        key: (_translate(part, name), ... if key in required else None) for key, part in properties.items()
    }
    allowed = extra and schema.get("additionalProperties", True) is not False
    config = ConfigDict(strict=True, extra="allow" if allowed else "forbid")
    return create_model(f"{name.title().replace('_', '')}Value", __config__=config, **fields)


def _checked_by_jsonschema(schema: dict[str, Any]) -> Any:
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())

    def check(value: Any) -> Any:
        error = jsonschema.exceptions.best_match(validator.iter_errors(value))
        if error is not None:
            where = ".".join(str(part) for part in error.absolute_path) or "value"
            raise ValueError(f"{where}: {error.message[:120]} (JSON Schema '{error.validator}')")
        return value

    return Annotated[Any, AfterValidator(check)]
