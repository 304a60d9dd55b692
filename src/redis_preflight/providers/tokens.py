"""Short-lived cloud tokens as redis-py credentials: fetched at start, refreshed before a new
connection would present one about to expire, and remembered so that no report shows one.
"""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import redis
from redis.credentials import CredentialProvider

from redis_preflight.config.settings import PreflightSettings
from redis_preflight.config.target import Target

# A token with less than this left is replaced before a connection presents it: AUTH and the
# first command must both land inside its life.
REFRESH_MARGIN_S = 60.0
EXTRAS = {"aws": "botocore", "gcp": "google.auth", "azure": "azure.identity"}


class TokenError(ValueError):
    """No token could be had (extra not installed, options or cloud credentials missing)."""


@dataclass(frozen=True)
class Token:
    value: str
    expires_at: float  # seconds since the epoch
    username: str | None  # None: AUTH with the token alone (the default user)


class TokenSource(CredentialProvider):
    """A redis-py CredentialProvider that hands out a cloud token, fresh enough for a new connection."""

    def __init__(
        self,
        name: str,
        fetch: Callable[[], Token],
        *,
        connection_limit: str,
    ) -> None:
        self.name = name
        # What happens to a connection once its token is old: reported, for the application's pool.
        self.connection_limit = connection_limit
        self._fetch = fetch
        self._lock = threading.Lock()
        self._token: Token | None = None
        self.issued: list[str] = []  # every token handed out: all are secrets
        self._lifetime: float | None = None

    def current(self) -> Token:
        with self._lock:
            token = self._token
            if token is None or token.expires_at - time.time() < REFRESH_MARGIN_S:
                token = self._token = self._fetch()
                self.issued.append(token.value)
                if self._lifetime is None:
                    self._lifetime = token.expires_at - time.time()
            return token

    def get_credentials(self) -> tuple[str] | tuple[str, str]:
        """Called by redis-py for each new connection; a failed refresh is a Redis error there,
        classified like any other, never a crash of the check that opened the connection."""
        try:
            token = self.current()
        except Exception as e:  # noqa: BLE001 - each cloud library raises its own kinds
            raise redis.AuthenticationError(
                f"{self.name}: no fresh token ({type(e).__name__}: {e}); check the cloud credentials"
            ) from e
        return (token.username, token.value) if token.username else (token.value,)

    @property
    def refreshes(self) -> int:
        return max(len(self.issued) - 1, 0)

    def seconds_left(self) -> float:
        """Life left in the token the next connection would present."""
        return self.current().expires_at - time.time()

    def lifetime_s(self) -> float:
        """How long a token lasts from its fetch (the first one's, measured at start)."""
        return self._lifetime if self._lifetime is not None else self.seconds_left()

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(self.issued)


def token_source(provider: str, options: dict[str, Any]) -> TokenSource:
    """The TokenSource for --auth-token-provider, its first token fetched now.

    A missing extra, option or cloud credential is a TokenError naming the fix.
    """
    module_name = EXTRAS[provider]
    try:
        importlib.import_module(module_name)
    except ImportError:
        raise TokenError(
            f'--auth-token-provider {provider} needs {module_name}: pip install "redis-preflight[{provider}]"'
        ) from None
    module = importlib.import_module(f"redis_preflight.providers.{provider}")
    source: TokenSource = module.source(**options)
    try:
        source.current()
    except TokenError:
        raise
    except Exception as e:  # noqa: BLE001 - each cloud library raises its own kinds
        raise TokenError(f"--auth-token-provider {provider}: no token ({type(e).__name__}: {e})") from None
    return source


def with_token(settings: PreflightSettings, provider: str, targets: Sequence[Target]) -> list[Target]:
    """Every target authenticates with one token source (the URL's password is not used); its
    first token is fetched now, so a missing extra or credential stops the run before any check."""
    if provider == "aws" and not all(target.tls for target in targets):
        raise TokenError(
            "--auth-token-provider aws: ElastiCache IAM authentication requires TLS; use rediss:// "
            "(in-transit encryption on)"
        )
    options = {
        "username": targets[0].username,
        "region": settings.aws_region,
        "cache_name": settings.aws_cache_name,
        "serverless": settings.aws_serverless,
    }
    source = token_source(provider, options)
    return [replace(target, token=source, password=None) for target in targets]
