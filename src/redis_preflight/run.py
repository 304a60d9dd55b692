"""One verification run: the settings, the target, its profile, and one client for all checks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from typing import Any, Generic, TypeVar, overload

import redis

from redis_preflight.backup.drill import Drill
from redis_preflight.config.health_url import HealthEndpoint
from redis_preflight.config.profiles import BUDGETS, MIN_REPLICAS, Budgets, Profile, infer_profile
from redis_preflight.config.settings import (
    PreflightSettings,
)
from redis_preflight.config.target import Target
from redis_preflight.contract import Contract, load_contract
from redis_preflight.errors import Diagnosis, stopped_answering
from redis_preflight.probes.capabilities import Capabilities, learn
from redis_preflight.probes.client import open_client
from redis_preflight.probes.cluster import ClusterTopology, discover
from redis_preflight.probes.connection import Reachability, reach
from redis_preflight.probes.health import HealthExchange, fetch_health
from redis_preflight.probes.keys.census import Bounds
from redis_preflight.probes.sentinel import PrimaryLookup
from redis_preflight.providers import Hosting
from redis_preflight.providers.detect import detect
from redis_preflight.providers.tokens import TokenSource

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
