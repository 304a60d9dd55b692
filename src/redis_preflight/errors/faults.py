"""What can go wrong (Fault), the one-line Diagnosis, and the helpers every classifier shares."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

import redis.exceptions as rx

from redis_preflight.config.target import Target


class Fault(StrEnum):
    DNS = "name does not resolve"
    REFUSED = "connection refused"
    NO_SOCKET = "unix socket not found"
    SOCKET_PERMISSION = "unix socket permission denied"
    CONNECT_TIMEOUT = "connect timeout"
    READ_TIMEOUT = "read timeout"
    CLOSED = "connection closed by the server"
    NOAUTH = "NOAUTH"
    WRONGPASS = "WRONGPASS"
    NOPERM = "NOPERM"
    NO_ACL_USER = "username given to a server without that ACL user"
    UNKNOWN_COMMAND = "unknown command"
    MISCONF = "MISCONF"
    TLS_TO_PLAINTEXT = "TLS spoken to a plaintext port"
    PLAINTEXT_TO_TLS = "plaintext spoken to a TLS port"
    TLS_UNKNOWN_CA = "TLS certificate not trusted"
    TLS_HOSTNAME = "TLS hostname mismatch"
    TLS_EXPIRED = "TLS certificate expired"
    TLS_NOT_YET_VALID = "TLS certificate not yet valid"
    TLS_VERIFY = "TLS verification failed"
    TLS_OLD_PROTOCOL = "TLS older than 1.2"
    TLS_CLIENT_CERT = "TLS client certificate required"
    TLS_CLIENT_CERT_REJECTED = "TLS client certificate rejected"
    TLS_TIMEOUT = "TLS handshake timeout"
    TLS = "TLS failure"
    NOT_REDIS = "not a Redis server"
    MAXCLIENTS = "max number of clients reached"
    PROTECTED_MODE = "protected mode"
    LOADING = "LOADING"
    READONLY = "READONLY"
    MASTERDOWN = "MASTERDOWN"
    DB_RANGE = "DB index is out of range"
    # the application's health endpoint
    REDIRECT_LOOP = "redirect loop"
    REDIRECT_DOWNGRADE = "redirect from https to http"
    HTTP_NOT_FOUND = "HTTP 404"
    HTTP_SERVER_ERROR = "HTTP server error"
    HTTP_STATUS = "unexpected HTTP status"
    NOT_HTTP = "not an HTTP server"
    NOT_JSON = "not JSON"
    BAD_DOCUMENT = "invalid health document"
    # Cluster and Sentinel topologies.
    CLUSTER_DB = "a cluster has only db 0"
    CLUSTERDOWN = "CLUSTERDOWN"
    MOVED = "MOVED"
    ANNOUNCED_UNREACHABLE = "announced address unreachable"
    NODE_DOWN = "node down"
    SENTINEL_UNREACHABLE = "no sentinel answered"
    SENTINEL_UNKNOWN_SERVICE = "unknown sentinel service"
    NOT_SENTINEL = "not a sentinel"
    NOQUORUM = "NOQUORUM"
    # Bounds (docs/bounds.md): a reply over its cap, the run over its deadline.
    REPLY_TOO_LARGE = "reply over the size cap"
    RUN_DEADLINE = "run deadline passed"
    OTHER = "unexpected error"


# Which part of the connection set-up a fault belongs to: its checks report it.
AUTH_FAULTS = frozenset({Fault.NOAUTH, Fault.WRONGPASS, Fault.NO_ACL_USER})
TLS_FAULTS = frozenset(fault for fault in Fault if fault.name.startswith("TLS"))
# The certificate was presented but rejected: it can still be fetched, unverified, and shown.
CERTIFICATE_FAULTS = frozenset(
    {Fault.TLS_UNKNOWN_CA, Fault.TLS_HOSTNAME, Fault.TLS_EXPIRED, Fault.TLS_NOT_YET_VALID, Fault.TLS_VERIFY}
)


class TlsToPlaintext(rx.ConnectionError):
    """A TLS handshake failed and the same port answered a plaintext PING: proof, not a guess."""


class PlaintextToTls(rx.ConnectionError):
    """The server hung up on a plaintext client and the same port completed a TLS handshake."""


class LegacyTls(rx.ConnectionError):
    """The server speaks only TLS older than 1.2; the message is the version it offered."""


class SanlessCertificate(rx.ConnectionError):
    """The hostname did not match and the certificate lists no subjectAltName; the message is its
    subject."""


class UsernameWithoutAcl(rx.AuthenticationError):
    """The username was rejected but the password alone was accepted: the server has no such user."""


@dataclass(frozen=True)
class Diagnosis:
    """What went wrong, in one line, with the next step."""

    fault: Fault
    message: str

    def __str__(self) -> str:
        return self.message


class _Say:
    """Build the one-line message: fault, where, next step."""

    def __init__(self, target: Target) -> None:
        self.where = target.address

    def __call__(self, fault: Fault, next_step: str) -> Diagnosis:
        return Diagnosis(fault, f"{fault.value} at {self.where}: {next_step}")


def _is_timeout(chain: list[BaseException]) -> bool:
    return any(isinstance(e, (TimeoutError, socket.timeout, rx.TimeoutError)) for e in chain)


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _first_line(text: str) -> str:
    return (text.strip().splitlines() or [""])[0][:200]
