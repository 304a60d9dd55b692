"""The Redis target: a URL parsed and validated before any traffic, shown only redacted."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from urllib.parse import parse_qs, quote, unquote, urlsplit

from pydantic import SecretStr
from redis.credentials import CredentialProvider

from redis_preflight.config.url_parts import bad_port, host_name_problem, unencoded_in_userinfo

SCHEMES = ("redis", "rediss", "unix", "redis+sentinel")
DEFAULT_PORT = 6379
SENTINEL_PORT = 26379
BAD_PORT = bad_port("redis://USER:PASSWORD@HOST:6379/0")


class TargetError(ValueError):
    """A URL that cannot name a Redis server; the message names the bad part."""


@dataclass(frozen=True)
class Sentinels:
    """`redis+sentinel://h1:26379,h2:26379/mymaster/0`: who to ask for the primary's address."""

    service: str
    addresses: tuple[tuple[str, int], ...]

    @property
    def hosts(self) -> str:
        return ",".join(host_port(host, port) for host, port in self.addresses)

    @property
    def label(self) -> str:
        """service@first-sentinel: stable whatever primary the sentinels name today."""
        return f"{self.service}@{host_port(*self.addresses[0])}"


@dataclass(frozen=True)
class Target:
    """Where the verifier connects and as whom; the password never leaves as text."""

    scheme: str
    host: str = ""
    port: int = DEFAULT_PORT
    db: int = 0
    username: str | None = None
    password: SecretStr | None = None
    socket_path: str = ""
    # Set for a redis+sentinel URL; host and port are then the primary the sentinels named.
    sentinels: Sentinels | None = None
    # A cloud token provider (--auth-token-provider): asked for a user and token per connection.
    token: CredentialProvider | None = field(default=None, compare=False)

    @property
    def has_credentials(self) -> bool:
        return self.password is not None or self.token is not None

    def credentials(self) -> tuple[str | None, SecretStr]:
        """(username, password) for the next AUTH: a fresh token if a provider gives them."""
        if self.token is not None:
            user, *rest = self.token.get_credentials()
            return (user, SecretStr(rest[0])) if rest else (None, SecretStr(user))
        return self.username, self.password or SecretStr("")

    @property
    def tls(self) -> bool:
        return self.scheme == "rediss"

    @property
    def is_unix(self) -> bool:
        return self.scheme == "unix"

    @property
    def is_loopback(self) -> bool:
        if self.is_unix:
            return True
        hosts = [host for host, _ in self.sentinels.addresses] if self.sentinels else []
        return all(_is_loopback(host) for host in hosts + ([self.host] if self.host else []))

    @property
    def address(self) -> str:
        """host:port (or the socket path): safe in test ids and logs."""
        if self.is_unix:
            return self.socket_path
        if self.sentinels and not self.host:
            return self.sentinels.label
        return host_port(self.host, self.port)

    @property
    def redacted(self) -> str:
        """The URL as shown everywhere: `redis://user:***@host:6379/0`."""
        user = self.username or ""
        secret = ":***" if self.password is not None else ""
        userinfo = f"{user}{secret}@" if (user or secret) else ""
        if self.is_unix:
            return f"unix://{userinfo}{self.socket_path}?db={self.db}"
        if self.sentinels:
            return f"redis+sentinel://{userinfo}{self.sentinels.hosts}/{self.sentinels.service}/{self.db}"
        return f"{self.scheme}://{userinfo}{self.address}/{self.db}"

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every spelling of the password a report must never contain."""
        if self.password is None or not self.password.get_secret_value():
            return ()
        plain = self.password.get_secret_value()
        return tuple(dict.fromkeys((plain, quote(plain, safe=""))))

    def __str__(self) -> str:
        return self.redacted


def parse_target(url: str) -> Target:
    """Parse and validate a Redis URL; raise TargetError naming the bad part."""
    url = url.strip()
    if not url:
        raise TargetError("the URL is empty")
    if (unencoded := unencoded_in_userinfo(url)) is not None:
        raise TargetError(unencoded)
    if url.startswith("redis+sentinel://"):
        parts = urlsplit(url)
        return _sentinel_target(parts.netloc, parts.path)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise TargetError(BAD_PORT) from None
    if parts.scheme not in SCHEMES:
        shown = parts.scheme or "(none)"
        raise TargetError(
            f"unsupported scheme {shown!r}: use redis://, rediss:// (TLS), unix:// or redis+sentinel://"
        )
    username = unquote(parts.username) if parts.username else None
    password = SecretStr(unquote(parts.password)) if parts.password is not None else None
    query = parse_qs(parts.query)
    if parts.scheme == "unix":
        if not parts.path:
            raise TargetError("unix:// URL has no socket path (unix:///path/to/redis.sock)")
        if "password" in query:
            password = SecretStr(query["password"][0])
        return Target(
            scheme="unix",
            socket_path=parts.path,
            db=_db_index(query.get("db", ["0"])[0]),
            username=username,
            password=password,
        )
    if not parts.hostname:
        raise TargetError("the URL has no host (redis://HOST:6379/0)")
    if port is not None and not 1 <= port <= 65535:
        raise TargetError(f"bad port {port}: use a number from 1 to 65535")
    if port == 0:
        raise TargetError("bad port 0: use a number from 1 to 65535")
    if (problem := host_name_problem(parts.hostname)) is not None:
        raise TargetError(f"{problem}: check the host in the URL")
    db_text = parts.path.lstrip("/") or query.get("db", ["0"])[0]
    return Target(
        scheme=parts.scheme,
        host=parts.hostname,
        port=port or DEFAULT_PORT,
        db=_db_index(db_text),
        username=username or None,
        password=password,
    )


def _sentinel_target(netloc: str, path: str) -> Target:
    """`user:password@h1:26379,h2:26379` and `/service/db`; urlsplit cannot read several hosts."""
    userinfo, _, hosts = netloc.rpartition("@")
    username, _, password = userinfo.partition(":")
    addresses = tuple(_sentinel_address(host) for host in hosts.split(","))
    service, _, db_text = path.strip("/").partition("/")
    if not service:
        raise TargetError("the sentinel URL has no service name (redis+sentinel://HOST:26379/mymaster/0)")
    return Target(
        scheme="redis",
        port=0,
        db=_db_index(db_text or "0"),
        username=unquote(username) or None,
        password=SecretStr(unquote(password)) if ":" in userinfo else None,
        sentinels=Sentinels(unquote(service), addresses),
    )


def _sentinel_address(text: str) -> tuple[str, int]:
    try:
        parts = urlsplit(f"//{text}")
        port = parts.port
    except ValueError:
        raise TargetError(
            bad_port("redis+sentinel://:PASSWORD@HOST:26379/SERVICE/0", "sentinel port")
        ) from None
    if not parts.hostname:
        raise TargetError("a sentinel has no host (redis+sentinel://HOST:26379,HOST:26379/SERVICE/0)")
    if port == 0:
        raise TargetError(f"bad sentinel port 0 for {parts.hostname!r}: use a number from 1 to 65535")
    if (problem := host_name_problem(parts.hostname)) is not None:
        raise TargetError(f"{problem}: check the sentinel hosts in the URL")
    return parts.hostname, port or SENTINEL_PORT


def host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _db_index(text: str) -> int:
    if not text.isdigit():
        raise TargetError(f"bad db index {text!r}: use a number such as /0")
    return int(text)
