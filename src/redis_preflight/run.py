"""One verification run: the settings, the target, its profile, and one client for all checks."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import redis

from redis_preflight.client import open_client, tls_context
from redis_preflight.ephemeral import start_ephemeral
from redis_preflight.health_endpoint import HealthEndpoint, HealthUrlError, parse_health_url
from redis_preflight.probes.connection import Reachability, reach
from redis_preflight.profiles import BUDGETS, Budgets, Profile, infer_profile
from redis_preflight.settings import EPHEMERAL, PreflightSettings, SettingsError, load_settings
from redis_preflight.target import Target, TargetError, parse_target

NO_TARGET = (
    "no Redis target: give --redis-url redis://HOST:6379/0, set REDIS_URL in the environment "
    "or in an env file (--env-file backend/.env), or try --redis-url ephemeral"
)


@dataclass
class PreflightRun:
    """What every check of a run shares; the server is probed once, on first need."""

    settings: PreflightSettings
    target: Target
    provider: str | None = None
    on_close: Callable[[], None] | None = None
    health: HealthEndpoint | None = None
    profile: Profile = field(init=False)
    profile_reason: str = field(init=False)

    def __post_init__(self) -> None:
        if self.settings.profile is not None:
            self.profile, self.profile_reason = self.settings.profile, "chosen"
        else:
            self.profile, self.profile_reason = infer_profile(self.target)

    @property
    def budgets(self) -> Budgets:
        return BUDGETS[self.profile]

    @property
    def secrets(self) -> tuple[str, ...]:
        """What no report may contain: the Redis password, the health URL's credentials, and the
        client key's path."""
        key = self.settings.tls_key_file
        client_key = (str(key), str(key.resolve())) if key else ()
        return (*self.target.secrets, *(self.health.secrets if self.health else ()), *client_key)

    @property
    def health_budget_ms(self) -> float:
        return self.settings.health_budget_ms or self.budgets.health_ms

    @cached_property
    def client(self) -> redis.Redis:
        return open_client(self.target, self.settings)

    @cached_property
    def reachability(self) -> Reachability:
        return reach(self.target, self.client, self.settings)

    def thresholds(self) -> dict[str, str]:
        """Every effective threshold, for the report header."""
        return {
            "connect timeout": f"{self.settings.connect_timeout:g} s",
            "socket timeout": f"{self.settings.socket_timeout:g} s",
            "latency p50 budget": f"{self.budgets.latency_p50_ms:g} ms",
            "latency p99 budget": f"{self.budgets.latency_p99_ms:g} ms",
            **({"health budget": f"{self.health_budget_ms:g} ms"} if self.health else {}),
        }

    def close(self) -> None:
        if "client" in self.__dict__:
            self.client.close()
        if self.on_close is not None:
            self.on_close()


def prepare(cli: dict[str, Any], env_file: Path | None) -> PreflightRun:
    """Settings, then the target; raises SettingsError or TargetError before any traffic."""
    settings = load_settings(cli, env_file)
    health = health_endpoint(settings)
    if settings.redis_url is None or not settings.redis_url.get_secret_value().strip():
        raise SettingsError(NO_TARGET)
    url = settings.redis_url.get_secret_value().strip()
    if url != EPHEMERAL:
        try:
            target = parse_target(url)
        except TargetError as e:
            raise TargetError(f"invalid REDIS_URL: {e}") from None
        if target.tls:
            _load_tls_files(settings)
        return PreflightRun(settings, target, health=health)
    ephemeral = start_ephemeral()
    return PreflightRun(
        settings,
        parse_target(ephemeral.url),
        provider=ephemeral.provider,
        on_close=ephemeral.stop,
        health=health,
    )


def _load_tls_files(settings: PreflightSettings) -> None:
    """A CA bundle or key pair that does not load is a usage error, before any traffic."""
    try:
        tls_context(settings)
    except (ssl.SSLError, OSError) as e:
        raise SettingsError(
            f"the TLS files do not load ({e}): --tls-ca-file must hold PEM certificates, "
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
