"""One verification run: the settings, the target, its profile, and one client for all checks."""

from __future__ import annotations

import os
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Generic, TypeVar, overload

import redis

from redis_preflight.backup.drill import Drill, count_live, start_drill
from redis_preflight.config.fleet import given_urls, labels, parse_all, shard
from redis_preflight.config.health_url import HealthEndpoint, HealthUrlError, parse_health_url
from redis_preflight.config.profiles import BUDGETS, MIN_REPLICAS, Budgets, Profile, infer_profile
from redis_preflight.config.settings import (
    EPHEMERAL,
    PreflightSettings,
    SettingsError,
    load_settings,
)
from redis_preflight.config.target import Target, parse_target
from redis_preflight.contract import Contract, load_contract
from redis_preflight.ephemeral import start_ephemeral
from redis_preflight.errors import Diagnosis, stopped_answering
from redis_preflight.probes.capabilities import Capabilities, learn
from redis_preflight.probes.client import open_client, tls_context
from redis_preflight.probes.cluster import ClusterTopology, discover
from redis_preflight.probes.connection import Reachability, reach
from redis_preflight.probes.health import HealthExchange, fetch_health
from redis_preflight.probes.keys.census import Bounds
from redis_preflight.probes.sentinel import PrimaryLookup, locate_primary
from redis_preflight.providers import Hosting
from redis_preflight.providers.detect import detect
from redis_preflight.providers.tokens import TokenError, TokenSource, with_token

NO_TARGET = (
    "no Redis target: give --redis-url redis://HOST:6379/0 (repeat it, or --targets-file FILE, "
    "for a fleet), set REDIS_URL in the environment or in an env file (--env-file backend/.env), "
    "or try --redis-url ephemeral"
)

T = TypeVar("T")


class cached_property(Generic[T]):  # noqa: N801 - a drop-in for functools.cached_property
    """functools.cached_property without its lock: before Python 3.12 one lock serves every
    instance, so probing a fleet's targets from threads would probe them one after another."""

    def __init__(self, compute: Callable[[Any], T]) -> None:
        self.compute = compute
        self.__doc__ = compute.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> cached_property[T]: ...

    @overload
    def __get__(self, instance: object, owner: type | None = None) -> T: ...

    def __get__(self, instance: object | None, owner: type | None = None) -> T | cached_property[T]:
        if instance is None:
            return self
        # Stored under the same name: later reads find it in the instance and skip this method.
        value: T = instance.__dict__.setdefault(self.name, self.compute(instance))
        return value


@dataclass(frozen=True)
class StoppedAnswering:
    """The check at which the server stopped answering mid-run, and why."""

    check: str
    diagnosis: Diagnosis

    def __str__(self) -> str:
        return f"server stopped answering at {self.check} ({self.diagnosis.fault.value}): see that check"


@dataclass
class PreflightRun:
    """What every check of a run shares; the server is probed once, on first need."""

    settings: PreflightSettings
    target: Target
    provider: str | None = None
    on_close: Callable[[], None] | None = None
    health: HealthEndpoint | None = None
    # For a redis+sentinel URL: what the sentinels said; the target is then the primary they named.
    sentinel: PrimaryLookup | None = None
    # The target's name in test ids when it is one of a fleet (host:port, /db where two clash).
    label: str = ""
    profile: Profile = field(init=False)
    profile_reason: str = field(init=False)
    stopped: StoppedAnswering | None = field(default=None, init=False)
    # --rdb / --backup: the backup loaded into a local server, which is then the target.
    drill: Drill | None = None
    contract: Contract = field(init=False)

    def __post_init__(self) -> None:
        if self.settings.profile is not None:
            self.profile, self.profile_reason = self.settings.profile, "chosen"
        else:
            self.profile, self.profile_reason = infer_profile(self.target)
        # Loaded before any traffic: a broken contract is a usage error, not a failed check.
        self.contract = load_contract(self.settings.contract, self.settings.key_policies)

    @property
    def census_bounds(self) -> Bounds:
        settings = self.settings
        return Bounds(
            key_sample=settings.key_sample,
            scan_budget_s=settings.scan_budget,
            full_scan=settings.full_scan,
            max_ops_per_sec=settings.max_ops_per_sec,
            max_value_bytes=settings.max_value_bytes,
        )

    @property
    def budgets(self) -> Budgets:
        """The profile's budgets, with any the settings override."""
        given = {f.name: getattr(self.settings, f.name, None) for f in fields(Budgets)}
        return replace(BUDGETS[self.profile], **{k: v for k, v in given.items() if v is not None})

    @cached_property
    def fixed_secrets(self) -> tuple[str, ...]:
        """What no report may contain and is known from the start: the Redis password, the health
        URL's credentials, the client key's path and renamed commands' names."""
        key = self.settings.tls_key_file
        client_key = (str(key), str(key.resolve())) if key else ()
        return (
            *self.target.secrets,
            *(self.health.secrets if self.health else ()),
            *client_key,
            *self.settings.command_names.secrets,
        )

    @property
    def secrets(self) -> tuple[str, ...]:
        """The fixed secrets and every cloud token handed out so far."""
        return (*self.fixed_secrets, *(self.token.secrets if self.token else ()))

    @property
    def token(self) -> TokenSource | None:
        token = self.target.token
        return token if isinstance(token, TokenSource) else None

    @property
    def time_bound_s(self) -> float | None:
        """How long the run may take at most (None: --full-scan has no bound)."""
        if self.settings.full_scan:
            return None
        waits = 4 * (self.settings.connect_timeout + self.settings.socket_timeout)
        return self.settings.scan_budget + self.settings.latency_window + waits

    @property
    def health_budget_ms(self) -> float:
        return self.settings.health_budget_ms or self.budgets.health_ms

    @cached_property
    def client(self) -> redis.Redis:
        return open_client(self.target, self.settings)

    @cached_property
    def reachability(self) -> Reachability:
        if self.sentinel is not None and self.sentinel.failure is not None:
            # No primary address: the service name did not resolve, as a host name might not.
            return Reachability(failure=self.sentinel.failure, failed_stage="dns")
        return reach(self.target, self.client, self.settings)

    @cached_property
    def health_exchange(self) -> HealthExchange | None:
        """One GET of the application's health endpoint per run (None without HEALTH_URL)."""
        return None if self.health is None else self.fetch_health()

    def fetch_health(self) -> HealthExchange:
        if self.health is None:
            raise ValueError("fetch_health needs a health URL")
        return fetch_health(
            self.health,
            ca_file=self.settings.health_ca_file,
            connect_timeout=self.settings.connect_timeout,
            read_timeout=self.settings.socket_timeout,
            max_body_bytes=self.settings.max_reply_bytes,
        )

    def settle(self, reachability: Reachability | None = None, health: HealthExchange | None = None) -> None:
        """Observations --wait already made when its time ran out: the checks report them, not wait again."""
        if reachability is not None:
            self.__dict__["reachability"] = reachability
        if health is not None:
            self.__dict__["health_exchange"] = health

    def use_lookup(self, lookup: PrimaryLookup) -> None:
        """A new answer from the sentinels (--wait asks again while they name no primary)."""
        self.sentinel = lookup
        if lookup.primary is not None:
            host, port = lookup.primary
            self.target = replace(self.target, host=host, port=port)

    @cached_property
    def cluster(self) -> ClusterTopology:
        """The cluster as the target node sees it; asked once, at collection (per-node test ids)."""
        if not self.reachability.ok:
            return ClusterTopology(False, self.target.address, failure=self.reachability.failure)
        return discover(self.client, self.target, self.settings.max_cluster_nodes)

    @cached_property
    def capabilities(self) -> Capabilities | None:
        """What the server lets the verifier do, tried once; None if it cannot be asked."""
        if not self.reachability.ok:
            return None
        try:
            return learn(self.client, self.target)
        except (OSError, redis.RedisError):
            return None

    @cached_property
    def hosting(self) -> Hosting:
        """Who runs the server: from the host name, else from INFO (the capabilities' INFO)."""
        info = None if self.target.is_unix else (self.capabilities.info if self.capabilities else None)
        return detect(self.target.host, info, self.settings.provider)

    @property
    def min_replicas(self) -> int:
        given = self.settings.min_replicas
        return MIN_REPLICAS[self.profile] if given is None else given

    def thresholds(self) -> dict[str, str]:
        """Every effective threshold, for the report header."""
        return {
            "connect timeout": f"{self.settings.connect_timeout:g} s",
            "socket timeout": f"{self.settings.socket_timeout:g} s",
            "latency p50 budget": f"{self.budgets.latency_p50_ms:g} ms",
            "latency p99 budget": f"{self.budgets.latency_p99_ms:g} ms",
            "latency burst": f"{self.settings.latency_samples} PINGs in at most "
            f"{self.settings.latency_window:g} s",
            "slowlog threshold": f"{self.budgets.slowlog_threshold_ms:g} ms",
            **({"health budget": f"{self.health_budget_ms:g} ms"} if self.health else {}),
            "min replicas per primary": str(self.min_replicas),
            "max save age": f"{self.settings.max_save_age:g} h",
            "key census": self.census_bounds.describe(),
            "largest reply": f"{self.settings.max_reply_bytes:,} bytes",
            "run deadline": _run_deadline(self.settings),
        }

    def notice(self, check: str, error: BaseException) -> None:
        """Remember the first check at which the server stopped answering, so later ones skip at once."""
        if self.stopped is None and (diagnosis := stopped_answering(error, self.target)) is not None:
            self.stopped = StoppedAnswering(check, diagnosis)

    def close(self) -> None:
        if "client" in self.__dict__:
            self.client.close()
        if self.on_close is not None:
            self.on_close()


def _run_deadline(settings: PreflightSettings) -> str:
    if settings.run_deadline is not None:
        return f"{settings.run_deadline:g} s"
    limit = settings.run_deadline_s()
    return "none (--full-scan)" if limit is None else f"{limit:g} s per target"


def prepare(cli: dict[str, Any], env_file: Path | None, base: Path | None = None) -> tuple[PreflightRun, ...]:
    """Settings, then every target (a fleet); raises SettingsError or TargetError before any traffic.

    A redis+sentinel target asks its sentinels for the primary here, under the timeouts.
    """
    settings = load_settings(cli, env_file)
    base = base or Path.cwd()
    _make_report_dir(base / settings.report_dir, settings.source_of("report_dir"))
    health = health_endpoint(settings)
    given = given_urls(settings, base)
    if settings.rdb is not None or settings.backup is not None:
        return (drill_run(settings, parse_all(given)[:1], health),)
    if not given:
        raise SettingsError(NO_TARGET)
    if given[0].url == EPHEMERAL and len(given) == 1:
        ephemeral = start_ephemeral()
        run = PreflightRun(
            settings,
            parse_target(ephemeral.url),
            provider=ephemeral.provider,
            on_close=ephemeral.stop,
            health=health,
        )
        return (run,)
    targets = parse_all(given)
    chosen = _shard_of(targets, settings)
    if any(targets[n].tls for n in chosen):
        _load_tls_files(settings)
    if settings.auth_token_provider is not None:
        try:
            targets = with_token(settings, settings.auth_token_provider, targets)
        except TokenError as e:
            raise SettingsError(str(e)) from None
    # Labels name each target in test ids; taken over the whole fleet so that shards name them alike.
    names = labels(targets) if len(targets) > 1 else [""]
    # HEALTH_URL is one application's: in a fleet it goes with the first target only.
    return tuple(_run_for(settings, targets[n], health if n == 0 else None, names[n]) for n in chosen)


def _make_report_dir(directory: Path, source: str) -> None:
    """The reports' directory, created now: a run that cannot write its verdict must not start."""
    if directory.exists() and not directory.is_dir():
        raise SettingsError(f"report directory {directory} from {source} is a file: give a directory")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise SettingsError(
            f"report directory {directory} from {source} cannot be created: {e.strerror}"
        ) from None
    if not os.access(directory, os.W_OK | os.X_OK):
        raise SettingsError(f"report directory {directory} from {source} is not writable")


def _shard_of(targets: list[Target], settings: PreflightSettings) -> list[int]:
    """--shard K/N: the indexes of this run's targets (all of them without it)."""
    if settings.shard_k_n is None:
        return list(range(len(targets)))
    k, n = settings.shard_k_n
    chosen = shard(targets, k, n)
    if not chosen:
        raise SettingsError(
            f"--shard {k}/{n} of a fleet of {len(targets)} target(s) is empty: give N no larger than "
            "the number of targets"
        )
    return chosen


def _run_for(
    settings: PreflightSettings, target: Target, health: HealthEndpoint | None, label: str
) -> PreflightRun:
    run = PreflightRun(settings, target, health=health, label=label)
    if target.sentinels is not None:
        run.use_lookup(locate_primary(target, settings))
    return run


def drill_run(settings: PreflightSettings, live: list[Target], health: HealthEndpoint | None) -> PreflightRun:
    """The keys area against a local server holding the backup; the live server (if given) is
    asked its DBSIZE only, and lends the drill its profile."""
    drill = start_drill(settings.rdb, settings.backup)
    if live:
        count_live(drill, live[0], settings)
    inferred = infer_profile(live[0]) if live and settings.profile is None else None
    profile = inferred[0] if inferred else settings.profile
    settings = settings.model_copy(update={"only": ("keys",), "skip": (), "profile": profile})
    target = parse_target(drill.server.url)
    run = PreflightRun(
        settings, target, provider=drill.provider, on_close=drill.stop, health=health, drill=drill
    )
    if inferred:
        run.profile_reason = f"{inferred[1]}, of the live server {live[0].redacted}"
    return run


def _load_tls_files(settings: PreflightSettings) -> None:
    """A CA bundle or key pair that does not load is a usage error, before any traffic."""
    try:
        tls_context(settings)
    except (ssl.SSLError, OSError) as e:
        # An OSError's text quotes the file name, and the key's path is a secret.
        reason = str(e) if isinstance(e, ssl.SSLError) else e.strerror
        raise SettingsError(
            f"the TLS files do not load ({reason}): --tls-ca-file must hold PEM certificates, "
            "--tls-cert-file and --tls-key-file a matching PEM certificate and key"
        ) from None


NO_HEALTH_URL = (
    "--expect-version and --require-service check the application's health document: give its "
    "URL with --health-url http://HOST:8000/api/v1/health/detailed or HEALTH_URL"
)


def health_endpoint(settings: PreflightSettings) -> HealthEndpoint | None:
    """HEALTH_URL, validated before any traffic; expectations without it would go unchecked."""
    url = settings.health_url.get_secret_value().strip() if settings.health_url else ""
    if not url:
        if settings.expect_version is not None or settings.require_service:
            raise SettingsError(NO_HEALTH_URL)
        return None
    try:
        return parse_health_url(url)
    except HealthUrlError as e:
        raise SettingsError(f"invalid HEALTH_URL: {e}") from None
