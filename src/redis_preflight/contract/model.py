"""The contract's data model: key patterns, their TTL policies, and per-pattern overrides."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, Json, TypeAdapter, model_validator

RedisType = Literal["string", "hash", "list", "set", "zset", "stream"]


class ContractError(ValueError):
    """A contract that cannot be loaded or makes no sense; a usage error (exit 4)."""


class Herd(BaseModel):
    """Too many keys of a pattern expiring together: `max_share` of them within `window`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    window: timedelta = timedelta(seconds=5)
    max_share: float = Field(default=0.2, gt=0, le=1)
    min_keys: int = Field(default=20, ge=2)
    """Fewer keys with a TTL than this: too few to call a herd."""


class TtlPolicy(BaseModel):
    """How long keys of a pattern may live."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    required: bool = True
    """A key without a TTL is a blocking finding; False makes it advisory."""
    max_ttl: timedelta | None = None
    min_ttl: timedelta | None = None
    coverage: float | None = Field(default=None, ge=0, le=1)
    """The share of keys that must carry a TTL (0.999: at most one in a thousand without)."""
    max_without_ttl: int | None = Field(default=None, ge=0)
    """How many keys of the pattern may live without a TTL (estimated when sampled)."""
    herd: Herd | None = None
    covers_jwt_exp: bool = False
    """The key names a JWT: its TTL must last until the token's `exp`."""
    why: str = ""
    """What goes wrong when the policy is broken, said in the finding."""

    @property
    def tolerates_missing(self) -> bool:
        """Some keys may lack a TTL: coverage or a budget says how many."""
        return self.coverage is not None or self.max_without_ttl is not None


class KeyPattern(BaseModel):
    """One family of keys: `prefix` + an id, a Redis type, its values' shape, a TTL policy.

    `value` is what one value validates against: a string's content; each member of a list, set
    or sorted set; for a hash or a stream entry, a pydantic model whose fields are the hash's
    fields (they arrive as text: give them lax types or Json[...]). None accepts anything.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    prefix: str = Field(min_length=1)
    type: RedisType = "string"
    value: Any = None
    encoding: Literal["json", "raw"] = "json"
    """json: the string (or member) holds JSON to validate against `value`; raw: the bytes."""
    ttl: TtlPolicy = TtlPolicy()
    extra_fields: bool = False
    """Whether JSON objects and hashes may carry fields the model does not declare."""
    min_members: int | None = Field(default=None, ge=0)
    max_members: int | None = Field(default=None, ge=0)
    """Bounds on the fields of a hash, the members of a list/set/zset, the entries of a stream."""
    min_score: float | None = None
    max_score: float | None = None
    secret_in_name: bool = False
    """The id is a secret (a token): reports show only its first characters and length."""

    @model_validator(mode="after")
    def _fits_type(self) -> KeyPattern:
        if self.type in ("hash", "stream") and self.value is not None and not _is_model(self.value):
            raise ValueError(f"{self.name}: a {self.type}'s value must be a pydantic model of its fields")
        if (self.min_score is not None or self.max_score is not None) and self.type != "zset":
            raise ValueError(f"{self.name}: a score range needs type zset, not {self.type}")
        return self

    @property
    def glob(self) -> str:
        return f"{self.prefix}*"

    @property
    def fields(self) -> tuple[str, ...]:
        """A hash's or stream entry's declared fields (none when its value is not a model)."""
        return tuple(self.value.model_fields) if _is_model(self.value) else ()

    def validator(self) -> TypeAdapter[list[Any]] | None:
        """Validates a list of values in one call (errors carry each value's index); None: any."""
        value = self.value
        if value is None:
            return None
        if _is_model(value):
            extra = "allow" if self.extra_fields else "forbid"
            config = {**value.model_config, "extra": extra}
            value = type(value.__name__, (value,), {"model_config": config, "__module__": value.__module__})
        if self.type in ("hash", "stream"):
            return TypeAdapter(list[value])  # type: ignore[valid-type]
        # Json[value] spelt out: pydantic parses each string, then validates it as `value`.
        item: Any = Annotated[value, Json()] if self.encoding == "json" else value  # type: ignore[type-arg]
        return TypeAdapter(list[item])


def _is_model(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, BaseModel)


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
