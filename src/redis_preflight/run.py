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

    @cached_property
    def client(self) -> redis.Redis:
        return open_client(self.target, self.settings)

    @cached_property
    def reachability(self) -> Reachability:
        return reach(self.target, self.client, self.settings)

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every text a report must never carry: the password's spellings, the client key's path."""
        key = self.settings.tls_key_file
        return (*self.target.secrets, *((str(key), str(key.resolve())) if key else ()))

    def thresholds(self) -> dict[str, str]:
        """Every effective threshold, for the report header."""
        return {
            "connect timeout": f"{self.settings.connect_timeout:g} s",
            "socket timeout": f"{self.settings.socket_timeout:g} s",
            "latency p50 budget": f"{self.budgets.latency_p50_ms:g} ms",
            "latency p99 budget": f"{self.budgets.latency_p99_ms:g} ms",
        }

    def close(self) -> None:
        if "client" in self.__dict__:
            self.client.close()
        if self.on_close is not None:
            self.on_close()


def prepare(cli: dict[str, Any], env_file: Path | None) -> PreflightRun:
    """Settings, then the target; raises SettingsError or TargetError before any traffic."""
    settings = load_settings(cli, env_file)
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
        return PreflightRun(settings, target)
    ephemeral = start_ephemeral()
    return PreflightRun(
        settings, parse_target(ephemeral.url), provider=ephemeral.provider, on_close=ephemeral.stop
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
