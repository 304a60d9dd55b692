"""The one settings model. Priority: command line > environment > env file > defaults."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    Field,
    FilePath,
    PrivateAttr,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    EnvSettingsSource,
    NoDecode,
    SettingsConfigDict,
)

from redis_preflight.config.options import FLAGS
from redis_preflight.config.profiles import Profile
from redis_preflight.config.renamed import CommandNames, parse_renames
from redis_preflight.contract import KeyPolicy

EPHEMERAL = "ephemeral"
MAX_POLICIES_CHARS = 64 * 1024
TokenProvider = Literal["aws", "gcp", "azure"]
ProviderKey = Literal["elasticache", "memorystore", "azure", "redis-cloud", "aiven", "self-hosted"]
Area = Literal["connection", "auth", "tls", "latency", "keys", "server", "health", "cluster", "sentinel"]


class SettingsError(ValueError):
    """A setting with a bad value; the message names the value and where it came from."""


def _env(name: str) -> Any:
    # REDIS_URL and HEALTH_URL are the names the application's own .env already uses.
    return Field(default=None, validation_alias=AliasChoices(name, f"PREFLIGHT_{name}"))


class PreflightSettings(BaseSettings):
    """Every option of the verifier, whatever feeds it."""

    model_config = SettingsConfigDict(
        env_prefix="PREFLIGHT_",
        extra="ignore",
        populate_by_name=True,
        env_ignore_empty=True,
        frozen=True,
    )

    # Where each value came from ("the environment (PREFLIGHT_X)"), set by load_settings.
    _sources: dict[str, str] = PrivateAttr(default_factory=dict)

    def source_of(self, field: str) -> str:
        """Where a setting's value came from, in the words a usage error uses."""
        return self._sources.get(field, "the defaults")

    redis_url: SecretStr | None = _env("REDIS_URL")
    profile: Profile | None = None
    connect_timeout: float = Field(default=5.0, gt=0, le=300)
    socket_timeout: float = Field(default=5.0, gt=0, le=300)
    # Every reply, and each of its strings and arrays, is held to this (see docs/bounds.md).
    max_reply_bytes: int = Field(default=16 << 20, ge=1024)
    # The run's own deadline; None: derived from the timeouts (run_deadline_s).
    run_deadline: float | None = Field(default=None, gt=0)
    strict: bool = False
    # An INCOMPLETE verdict (a blocking check unverified) exits 0: a restricted setup, known and accepted.
    accept_incomplete: bool = False
    allow_write: bool = False
    # The target is a replica on purpose: the application only reads from it.
    read_only_target: bool = False
    report_dir: Path = Path("reports")
    # Fleets and topologies (see docs/configuration.md, docs/checks/cluster.md).
    targets_file: Path | None = None
    min_replicas: int | None = Field(default=None, ge=0)
    max_cluster_nodes: int = Field(default=1000, ge=1)
    # Pipelines (docs/pipelines.md): wait for readiness, a shard of the fleet, a Prometheus file.
    wait: float = Field(default=0.0, ge=0, le=3600)
    shard: str | None = None  # K/N
    prometheus_file: Path | None = None

    @field_validator("redis_url", mode="before")
    @classmethod
    def _join_repeated_urls(cls, value: Any) -> Any:
        """--redis-url given several times arrives as a list: one text, whitespace-separated.

        A URL never holds whitespace: a line break inside one value would silently make a
        second target (a pasted variable, a quoting slip), so it is refused.
        """
        if not isinstance(value, (list, tuple)):
            return value
        if any(len(str(url).split()) > 1 for url in value):
            raise ValueError(
                "a --redis-url value holds whitespace (a line break?): give one URL per --redis-url, "
                "or list them in --targets-file"
            )
        return "\n".join(value)

    @field_validator("shard")
    @classmethod
    def _k_of_n(cls, value: str | None) -> str | None:
        if value is not None:
            k, _, n = value.partition("/")
            if not (k.isdigit() and n.isdigit() and 1 <= int(k) <= int(n)):
                raise ValueError("give K/N with 1 <= K <= N, e.g. --shard 2/3")
        return value

    @property
    def shard_k_n(self) -> tuple[int, int] | None:
        """(K, N) of --shard K/N: this run verifies the K-th of N shares of the targets."""
        if self.shard is None:
            return None
        k, _, n = self.shard.partition("/")
        return int(k), int(n)

    @property
    def redis_urls(self) -> list[str]:
        """Every URL given by --redis-url / REDIS_URL (several are separated by whitespace)."""
        return self.redis_url.get_secret_value().split() if self.redis_url else []

    # TLS and authentication (rediss:// targets; the plaintext probe beside a TLS port).
    tls_ca_file: FilePath | None = None
    tls_cert_file: FilePath | None = None
    # Not in the settings' repr (pytest -l shows it): the path leads to the key.
    tls_key_file: FilePath | None = Field(default=None, repr=False)
    tls_min_days: int = Field(default=30, ge=0, le=3650)
    tls_insecure: bool = False
    plaintext_port: int = Field(default=6379, ge=0, le=65535)

    @field_validator("tls_key_file")
    @classmethod
    def _key_needs_certificate(cls, key: Path | None, info: ValidationInfo) -> Path | None:
        if key is not None and info.data.get("tls_cert_file") is None:
            raise ValueError("a client key needs its certificate: give --tls-cert-file too")
        return key

    # Latency: the PING burst, and overrides of the profile's budgets (None: the profile's).
    latency_samples: int = Field(default=100, ge=1, le=10_000)
    latency_window: float = Field(default=2.0, gt=0, le=60)
    latency_p50_ms: float | None = Field(default=None, gt=0)
    latency_p99_ms: float | None = Field(default=None, gt=0)
    slowlog_threshold_ms: float | None = Field(default=None, ge=0)

    # The application's health endpoint (HEALTH_URL may carry a token: a secret like REDIS_URL).
    health_url: SecretStr | None = _env("HEALTH_URL")
    health_ca_file: FilePath | None = None
    expect_version: str | None = None
    # Services the health document must report true, besides redis; env: comma-separated.
    require_service: Annotated[tuple[str, ...], NoDecode] = ()
    health_budget_ms: float | None = Field(default=None, gt=0)

    @property
    def required_services(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(("redis", *self.require_service)))

    # Server area
    max_save_age: float = Field(default=24.0, gt=0, le=24 * 365)  # hours

    # Which areas run: --only / --skip, repeatable or comma-separated (env: comma-separated).
    only: Annotated[tuple[Area, ...], NoDecode] = ()
    skip: Annotated[tuple[Area, ...], NoDecode] = ()

    @field_validator("require_service", "only", "skip", mode="before")
    @classmethod
    def _split_commas(cls, value: Any) -> Any:
        """ "a,b" from the environment, or ["a,b", "c"] from a repeated option: ("a", "b", "c")."""
        if isinstance(value, str):
            value = [value]
        if isinstance(value, (list, tuple)):
            return tuple(part.strip() for v in value for part in str(v).split(",") if part.strip())
        return value

    def runs_area(self, area: str) -> bool:
        return (not self.only or area in self.only) and area not in self.skip

    # --- keys area: the key census and its contract ---
    key_sample: int = Field(default=1000, ge=1)
    scan_budget: float = Field(default=10.0, gt=0)
    full_scan: bool = False
    max_ops_per_sec: int | None = Field(default=None, gt=0)
    max_value_bytes: int = Field(default=1 << 20, ge=1)
    contract: str | None = None
    key_policies: Annotated[dict[str, KeyPolicy], NoDecode] = Field(default_factory=dict)

    @field_validator("key_policies", mode="before")
    @classmethod
    def _policies_from_json(cls, value: Any) -> Any:
        # Given as JSON on the command line and in the environment alike.
        if not isinstance(value, str):
            return value
        if len(value) > MAX_POLICIES_CHARS:
            raise ValueError(f"over {MAX_POLICIES_CHARS:,} characters: a policy per key pattern is far less")
        try:
            return json.loads(value)
        except RecursionError:
            raise ValueError('JSON nested too deep: expected {"PATTERN": {"max_ttl": SECONDS}}') from None
        except json.JSONDecodeError as e:
            raise ValueError(f"not valid JSON ({e})") from None

    # The restore drill: a backup loaded into a throwaway local server, judged by the keys area.
    rdb: FilePath | None = None
    backup: FilePath | None = None

    # --- end of the keys area ---

    # Managed services: renamed commands and short-lived cloud tokens (docs/providers/).
    # CONFIG=NEW_NAME, repeatable (env: comma-separated); the new names are secrets.
    renamed_command: Annotated[dict[str, SecretStr], NoDecode] = Field(default_factory=dict)
    # Names the provider where neither the host nor INFO does (Memorystore: a private IP).
    provider: ProviderKey | None = None
    auth_token_provider: TokenProvider | None = None
    aws_region: str | None = None
    aws_cache_name: str | None = None
    aws_serverless: bool = False

    @field_validator("renamed_command", mode="before")
    @classmethod
    def _parse_renames(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, (list, tuple)):
            return parse_renames(part for v in value for part in str(v).split(",") if part.strip())
        return value

    @property
    def command_names(self) -> CommandNames:
        return CommandNames.of(self.renamed_command)

    def run_deadline_s(self, targets: int = 1) -> float | None:
        """--run-deadline, else room per target for six timeouts of each kind, the census and the
        latency burst; none under --full-scan, which asked to see every key however long it takes."""
        if self.run_deadline is not None:
            return self.run_deadline
        if self.full_scan:
            return None
        per_target = 6 * (self.connect_timeout + self.socket_timeout) + self.scan_budget + self.latency_window
        return per_target * targets


# Never shown, not even in a usage error: URLs carry passwords, and the key path leads to the key.
SECRET_FIELDS = ("tls_key_file", "renamed_command")
SHOWN_CHARS = 60  # of a bad value, in a usage error


def load_settings(cli: dict[str, Any], env_file: Path | None) -> PreflightSettings:
    """Build the settings once, each remembering its source; a bad value raises SettingsError naming it."""
    given = {name: value for name, value in cli.items() if value is not None}
    sources = _sources(given, env_file)
    try:
        settings = PreflightSettings(_env_file=env_file, **given)  # type: ignore[call-arg]
    except ValidationError as e:
        error = e.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else "?"
        name = field.lower().removeprefix("preflight_")
        shown = "***" if "url" in name or name in SECRET_FIELDS else _shown(error.get("input"))
        where = sources.get(name, "the defaults")
        raise SettingsError(f"invalid {field} {shown} from {where}: {error['msg']}") from None
    settings._sources = sources
    return settings


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= SHOWN_CHARS else f"{text[:SHOWN_CHARS]}... ({len(text):,} characters)"


def _sources(given: dict[str, Any], env_file: Path | None) -> dict[str, str]:
    """Where each field given anywhere comes from, in the priority order, in a usage error's words.

    Asks pydantic-settings' own environment and env-file sources, so the variable named is the
    one it reads (REDIS_URL or PREFLIGHT_REDIS_URL).
    """
    environment = EnvSettingsSource(PreflightSettings)
    dotenv = DotEnvSettingsSource(PreflightSettings, env_file=env_file)
    prefix = PreflightSettings.model_config.get("env_prefix", "")
    sources: dict[str, str] = {}
    for name, field in PreflightSettings.model_fields.items():
        if name in given:
            sources[name] = f"the command line ({FLAGS.get(name, name)})"
            continue
        value, key, _ = environment.get_field_value(field, name)
        if value is not None:
            variable = key if field.validation_alias else f"{prefix}{name}"
            sources[name] = f"the environment ({variable.upper()})"
        elif env_file is not None and dotenv.get_field_value(field, name)[0] is not None:
            sources[name] = f"the env file ({env_file})"
    return sources
