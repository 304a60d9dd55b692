"""The application's health URL: parsed and validated before any traffic, shown only redacted."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, unquote, urlsplit, urlunsplit

from pydantic import SecretStr

from redis_preflight.config.redact import CREDENTIAL_PARAM, MASK
from redis_preflight.config.url_parts import bad_port, host_name_problem, unencoded_in_userinfo

SCHEMES = ("http", "https")
SEED_PATH = "/api/v1/health/detailed"


class HealthUrlError(ValueError):
    """A health URL that cannot name an HTTP endpoint; the message names the bad part."""


@dataclass(frozen=True)
class HealthEndpoint:
    """Where the application says how it is; credentials and tokens never leave as text."""

    url: SecretStr

    @property
    def plain(self) -> str:
        return self.url.get_secret_value()

    @property
    def redacted(self) -> str:
        return redact_http_url(self.plain)

    @property
    def authorization(self) -> str | None:
        """The Basic credentials the URL's userinfo stands for, as the Authorization header."""
        parts = urlsplit(self.plain)
        if parts.username is None and parts.password is None:
            return None
        pair = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}"
        return "Basic " + base64.b64encode(pair.encode()).decode("ascii")

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every spelling of the URL's password, its Basic credentials and credential-like query
        values. The redactor searches for the long ones only: the rest are masked by field."""
        parts = urlsplit(self.plain)
        found = [unquote(parts.password)] if parts.password else []
        found += [value for name, value in parse_qsl(parts.query) if _is_secret_name(name)]
        spellings = [s for value in found if value for s in (value, quote(value, safe=""))]
        basic = [self.authorization.removeprefix("Basic ")] if self.authorization else []
        return tuple(dict.fromkeys(spellings + basic))

    def __str__(self) -> str:
        return self.redacted


def parse_health_url(url: str) -> HealthEndpoint:
    """Validate an http(s) URL; raise HealthUrlError naming the bad part (never the secret)."""
    url = url.strip()
    if (unencoded := unencoded_in_userinfo(url, strict=False)) is not None:
        raise HealthUrlError(unencoded)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise HealthUrlError(bad_port(f"https://USER:PASSWORD@HOST{SEED_PATH}")) from None
    if parts.scheme not in SCHEMES:
        shown = parts.scheme or "(none)"
        raise HealthUrlError(
            f"unsupported scheme {shown!r}: use http:// or https://, e.g. http://localhost:8000{SEED_PATH}"
        )
    if not parts.hostname:
        raise HealthUrlError(f"the URL has no host (http://HOST:8000{SEED_PATH})")
    if port == 0:
        raise HealthUrlError("bad port 0: use a number from 1 to 65535")
    if (problem := host_name_problem(parts.hostname)) is not None:
        raise HealthUrlError(f"{problem}: check the host in the URL")
    return HealthEndpoint(SecretStr(url))


def redact_http_url(url: str) -> str:
    """`https://user:***@host/path?token=***`: the URL as every output shows it."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        netloc = f"{parts.username or ''}:{MASK}@{netloc.rpartition('@')[2]}"
    query = "&".join(_redact_pair(pair) for pair in parts.query.split("&")) if parts.query else ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def _redact_pair(pair: str) -> str:
    name, equals, _ = pair.partition("=")
    return f"{name}={MASK}" if equals and _is_secret_name(unquote(name)) else pair


def _is_secret_name(name: str) -> bool:
    return re.fullmatch(CREDENTIAL_PARAM, name, re.IGNORECASE) is not None
