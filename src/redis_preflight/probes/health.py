"""The application's health endpoint: one GET, redirects followed, timed, its body validated.

The standard library's http.client, driven step by step: each stage (DNS, connect, TLS, request)
runs under its own timeout and the whole exchange under one deadline, redirects are followed
by hand so that a loop is seen, and a failure is classified at the stage where it happened.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import SplitResult, urljoin, urlsplit

from pydantic import BaseModel, ConfigDict, StrictBool, StrictStr, ValidationError

from redis_preflight import __version__
from redis_preflight.config.health_url import SCHEMES, HealthEndpoint, redact_http_url
from redis_preflight.errors import (
    Diagnosis,
    classify_health,
    classify_health_body,
    classify_health_status,
    health_body_too_large,
    health_downgrade,
    health_redirect_failure,
)
from redis_preflight.probes.bounds import DEFAULT_MAX_REPLY_BYTES, deadline
from redis_preflight.probes.connection import lookup

MAX_REDIRECTS = 5
REDIRECT_STATUSES = (301, 302, 303, 307, 308)


class HealthDocument(BaseModel):
    """What the application's /api/v1/health/detailed answers; unknown extra fields are tolerated."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    status: StrictStr
    version: StrictStr
    services: dict[str, StrictBool]

    def down(self, required: tuple[str, ...]) -> tuple[str, ...]:
        """The required services not reported true (false, or absent)."""
        return tuple(name for name in required if self.services.get(name) is not True)

    def services_seen(self, required: tuple[str, ...]) -> str:
        """`redis: true (required), rabbitmq: false`, with required services that are absent."""
        said = {name: "true" if up else "false" for name, up in self.services.items()}
        said |= {name: "absent" for name in required if name not in said}
        return ", ".join(
            f"{name}: {value}" + (" (required)" if name in required else "") for name, value in said.items()
        )


@dataclass(frozen=True)
class HealthResponse:
    """The final answer, after any redirects; URLs are redacted."""

    url: str
    status: int
    reason: str
    content_type: str
    body: bytes
    elapsed_ms: float
    redirects: tuple[str, ...]
    cache_headers: tuple[str, ...] = ()  # `Age: 30`, `X-Cache: HIT`: the answer came from a cache

    @property
    def is_json(self) -> bool:
        media_type = self.content_type.split(";")[0].strip().lower()
        return media_type == "application/json" or media_type.endswith("+json")


@dataclass(frozen=True)
class HealthExchange:
    """One GET of the health URL: the response if one came, what failed, the document if valid."""

    response: HealthResponse | None = None
    failure: Diagnosis | None = None
    document: HealthDocument | None = None
    document_failure: Diagnosis | None = None


class _Failed(Exception):
    def __init__(self, diagnosis: Diagnosis) -> None:
        super().__init__(diagnosis.message)
        self.diagnosis = diagnosis


@dataclass(frozen=True)
class _Reply:
    status: int
    reason: str
    content_type: str
    location: str | None
    body: bytes
    cache_headers: tuple[str, ...]


# What HTTP caches (reverse proxies, CDNs) add to an answer they served from their store.
CACHE_HEADERS = ("Age", "X-Cache", "X-Cache-Status", "X-Proxy-Cache", "CF-Cache-Status")


def fetch_health(
    endpoint: HealthEndpoint,
    *,
    ca_file: Path | None,
    connect_timeout: float,
    read_timeout: float,
    max_body_bytes: int = DEFAULT_MAX_REPLY_BYTES,
) -> HealthExchange:
    """GET the health URL; a failure is returned classified, never raised."""
    started = time.perf_counter()
    session = _Session(endpoint, ca_file, connect_timeout, read_timeout, max_body_bytes)
    try:
        reply, hops = _follow(session, endpoint.plain, endpoint.redacted)
    except _Failed as e:
        return HealthExchange(failure=e.diagnosis)
    response = HealthResponse(
        url=hops[-1],
        status=reply.status,
        reason=reply.reason,
        content_type=reply.content_type,
        body=reply.body,
        elapsed_ms=(time.perf_counter() - started) * 1000,
        redirects=tuple(hops[1:]),
        cache_headers=reply.cache_headers,
    )
    failure = classify_health_status(reply.status, reply.reason, response.url)
    try:
        document = HealthDocument.model_validate_json(reply.body)
    except ValidationError as e:
        # An error page is judged by its status; only a 200 must carry the document.
        judged = classify_health_body(e, reply.body, reply.content_type, response.url)
        return HealthExchange(response, failure, None, judged if reply.status == 200 else None)
    return HealthExchange(response, failure, document)


def _follow(session: _Session, url: str, where: str) -> tuple[_Reply, list[str]]:
    seen = [url]
    hops = [redact_http_url(url)]
    while True:
        reply = session.get(url)
        if reply.status not in REDIRECT_STATUSES:
            return reply, hops
        if not reply.location:
            hops.append("(no Location header)")
            raise _Failed(health_redirect_failure(hops, where, looped=False, limit=MAX_REDIRECTS))
        url = urljoin(url, reply.location)
        seen.append(url)
        hops.append(redact_http_url(url))
        if urlsplit(seen[0]).scheme == "https" and urlsplit(url).scheme == "http":
            raise _Failed(health_downgrade(hops, where))
        looped = url in seen[:-1]
        if looped or len(hops) > MAX_REDIRECTS + 1 or urlsplit(url).scheme not in SCHEMES:
            raise _Failed(health_redirect_failure(hops, where, looped=looped, limit=MAX_REDIRECTS))


class _Session:
    """Every call of one exchange, under its own timeout and one overall deadline."""

    def __init__(
        self,
        endpoint: HealthEndpoint,
        ca_file: Path | None,
        connect_timeout: float,
        read_timeout: float,
        max_body_bytes: int,
    ) -> None:
        self.max_body_bytes = max_body_bytes
        self.origin = _origin(urlsplit(endpoint.plain))
        self.authorization = endpoint.authorization
        self.ca_file = ca_file
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.deadline = time.monotonic() + connect_timeout + read_timeout

    def get(self, url: str) -> _Reply:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        stage = "dns"
        try:
            addresses = lookup(host, port, self._left(self.connect_timeout))
            stage = "connect"
            sock = self._connect(addresses, port)
            if parts.scheme == "https":
                stage = "tls"
                sock.settimeout(self._left(self.read_timeout))
                context = ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)
                sock = context.wrap_socket(sock, server_hostname=host)
            stage = "request"
            # A socket timeout is per read: headers or a chunk size line sent a byte a second
            # would hold each read just under it. The deadline covers the whole answer.
            with deadline(sock, self._left(self.read_timeout)):
                return self._exchange(sock, parts, redact_http_url(url))
        except (OSError, http.client.HTTPException) as e:
            raise _Failed(classify_health(e, redact_http_url(url), stage=stage)) from e

    def _connect(self, addresses: tuple[str, ...], port: int) -> socket.socket:
        """Each address in turn, as socket.create_connection would with a host name."""
        error: OSError | None = None
        for address in addresses:
            try:
                return socket.create_connection((address, port), timeout=self._left(self.connect_timeout))
            except OSError as e:
                error = e
        raise error or OSError("no address to connect to")

    def _exchange(self, sock: socket.socket, parts: SplitResult, where: str) -> _Reply:
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port)
        connection.sock = sock  # already connected (and wrapped in TLS) under our timeouts
        try:
            sock.settimeout(self._left(self.read_timeout))
            connection.request("GET", _path(parts), headers=self._headers(parts))
            response = connection.getresponse()
            body = bytearray()
            while chunk := response.read1(65536):
                body += chunk
                if len(body) > self.max_body_bytes:
                    raise _Failed(health_body_too_large(where, self.max_body_bytes))
        finally:
            connection.close()
        return _Reply(
            response.status,
            response.reason,
            response.getheader("Content-Type", ""),
            response.getheader("Location"),
            bytes(body),
            tuple(
                f"{name}: {response.getheader(name)}" for name in CACHE_HEADERS if response.getheader(name)
            ),
        )

    def _headers(self, parts: SplitResult) -> dict[str, str]:
        headers = {
            "Host": parts.netloc.rpartition("@")[2],
            "Accept": "application/json",
            "User-Agent": f"redis-preflight/{__version__}",
            "Connection": "close",
        }
        # Credentials in the URL go to its own origin only, never to where a redirect points.
        if self.authorization and _origin(parts) == self.origin:
            headers["Authorization"] = self.authorization
        return headers

    def _left(self, step_timeout: float) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the health endpoint took longer than the connect and socket timeouts")
        return min(step_timeout, left)


def _origin(parts: SplitResult) -> tuple[str, str, int | None]:
    return parts.scheme, parts.hostname or "", parts.port


def _path(parts: SplitResult) -> str:
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
