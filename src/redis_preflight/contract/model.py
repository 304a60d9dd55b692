"""The contract's data model: key patterns, their TTL policies, and per-pattern overrides."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, Json, TypeAdapter, model_validator


class ContractError(ValueError):
    """A contract that cannot be loaded or makes no sense; a usage error (exit 4)."""


class TtlPolicy(BaseModel):
    """How long keys of a pattern may live."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    required: bool = True
    """A key without a TTL is a blocking finding; False makes it advisory."""
    max_ttl: timedelta | None = None
    covers_jwt_exp: bool = False
    """The key names a JWT: its TTL must last until the token's `exp`."""
    why: str = ""
    """What goes wrong when the policy is broken, said in the finding."""


class KeyPattern(BaseModel):
    """One family of keys: `prefix` + an id, a value of type `value`, a TTL policy."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    prefix: str = Field(min_length=1)
    value: Any
    encoding: Literal["json", "raw"] = "json"
    """json: the string holds JSON to validate against `value`; raw: `value` gets the bytes."""
    ttl: TtlPolicy = TtlPolicy()
    extra_fields: bool = False
    """Whether JSON objects may carry fields the model does not declare."""
    secret_in_name: bool = False
    """The id is a secret (a token): reports show only its first characters and length."""

    @property
    def glob(self) -> str:
        return f"{self.prefix}*"

    def validator(self) -> TypeAdapter[list[Any]]:
        """Validates a list of raw values in one call; errors carry the index of each value."""
        value = self.value
        if isinstance(value, type) and issubclass(value, BaseModel):
            extra = "allow" if self.extra_fields else "forbid"
            config = {**value.model_config, "extra": extra}
            value = type(value.__name__, (value,), {"model_config": config, "__module__": value.__module__})
        # Json[value] spelt out: pydantic parses each string, then validates it as `value`.
        item: Any = Annotated[value, Json()] if self.encoding == "json" else value  # type: ignore[type-arg]
        return TypeAdapter(list[item])


class KeyPolicy(BaseModel):
    """A change to one pattern's policy from the settings; only the fields given apply."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ttl: Literal["required", "advisory"] | None = None
    max_ttl: timedelta | None = None
    extra_fields: bool | None = None


class Contract(BaseModel):
    """The key patterns an application promises to keep."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    patterns: tuple[KeyPattern, ...]

    @model_validator(mode="after")
    def _distinct(self) -> Contract:
        for attribute in ("name", "prefix"):
            values = [getattr(p, attribute) for p in self.patterns]
            duplicates = sorted({v for v in values if values.count(v) > 1})
            if duplicates:
                raise ValueError(f"two patterns share the {attribute} {', '.join(duplicates)}")
        return self

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.patterns)

    def pattern(self, name: str) -> KeyPattern:
        for pattern in self.patterns:
            if pattern.name == name:
                return pattern
        raise KeyError(name)

    def plus(self, *patterns: KeyPattern) -> Contract:
        """This contract and more patterns (a pattern of the same name replaces the old one)."""
        new = {p.name for p in patterns}
        return Contract(patterns=(*(p for p in self.patterns if p.name not in new), *patterns))

    def with_policy(self, name: str, policy: KeyPolicy) -> Contract:
        """This contract with one pattern's policy changed by the fields `policy` sets."""
        old = self.pattern(name)
        ttl_changes: dict[str, Any] = {}
        if "ttl" in policy.model_fields_set:
            ttl_changes["required"] = policy.ttl != "advisory"
        if "max_ttl" in policy.model_fields_set:
            ttl_changes["max_ttl"] = policy.max_ttl
        fields = {**dict(old), "ttl": old.ttl.model_copy(update=ttl_changes)}
        if policy.extra_fields is not None:
            fields["extra_fields"] = policy.extra_fields
        return Contract(patterns=tuple(KeyPattern(**fields) if p is old else p for p in self.patterns))
