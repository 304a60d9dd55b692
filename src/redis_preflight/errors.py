"""The one place that turns a low-level failure into a diagnosis a person can act on."""

from __future__ import annotations

import http.client
import re
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, replace
from enum import StrEnum

import redis.exceptions as rx
from pydantic import ValidationError

from redis_preflight.health_endpoint import SEED_PATH
from redis_preflight.target import Target


class Fault(StrEnum):
    DNS = "name does not resolve"
    REFUSED = "connection refused"
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
    LOADING = "LOADING"
    READONLY = "READONLY"
    MASTERDOWN = "MASTERDOWN"
    DB_RANGE = "DB index is out of range"
    # the application's health endpoint
    REDIRECT_LOOP = "redirect loop"
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


class UsernameWithoutAcl(rx.AuthenticationError):
    """The username was rejected but the password alone was accepted: the server has no such user."""


@dataclass(frozen=True)
class Diagnosis:
    """What went wrong, in one line, with the next step."""

    fault: Fault
    message: str

    def __str__(self) -> str:
        return self.message


def classify(error: BaseException, target: Target, *, stage: str = "command") -> Diagnosis:
    """Classify any failure talking to `target`.

    `stage` is where it happened: "dns", "connect", "tls", "command" (anything after the
    transport is up: AUTH, SELECT, PING) or "check" (a check, after the handshake worked).
    The same timeout or hang-up means different things at different stages.
    """
    chain = list(_chain(error))
    # redis-py strips the error code (NOAUTH, WRONGPASS, ...) from the message: put it back.
    text = " | ".join(f"{getattr(e, 'status_code', None) or ''} {e}".strip() for e in chain)
    upper = text.upper()
    diagnosis = _Say(target)
    detected = _detected_diagnosis(error, target, diagnosis)
    if detected is not None:
        return detected
    elsewhere = _other_node(text, target)
    if elsewhere is not None:
        # A cluster client was sent (CLUSTER SLOTS, MOVED) to an address other than the URL's.
        return unreachable_node(classify(error, elsewhere, stage=stage), elsewhere.address, None)
    if any(isinstance(e, socket.gaierror) for e in chain) or stage == "dns":
        return diagnosis(
            Fault.DNS,
            f"{target.host!r} has no address; check the host name in REDIS_URL and DNS from this machine",
        )
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or "REFUSED" in upper:
        return diagnosis(
            Fault.REFUSED,
            "nothing listens on that port; check the server is running, the port, "
            "and firewalls (telnet HOST PORT)",
        )
    rejected = next((e for e in chain if isinstance(e, ssl.SSLCertVerificationError)), None)
    if rejected is not None:
        return _verify_diagnosis(rejected, diagnosis)
    if "WRONG_VERSION_NUMBER" in upper or "WRONG VERSION NUMBER" in upper:
        return diagnosis(
            Fault.TLS_TO_PLAINTEXT,
            "the port answers plaintext; use redis:// instead of rediss://, or the TLS port",
        )
    if _is_timeout(chain):
        return _timeout_diagnosis(stage, diagnosis)
    if any(isinstance(e, ssl.SSLError) for e in chain):
        return _tls_alert_diagnosis(upper, text, diagnosis)
    return _redis_reply_diagnosis(upper, text, target, diagnosis, stage)


# Mid-run, these mean the server is gone or stalled: every later check would only wait for it.
STOPPED_ANSWERING = frozenset(
    {Fault.REFUSED, Fault.CONNECT_TIMEOUT, Fault.READ_TIMEOUT, Fault.CLOSED, Fault.LOADING}
)


def stopped_answering(error: BaseException, target: Target) -> Diagnosis | None:
    """The diagnosis when a check's Redis call failed because the server went away or stalled."""
    if not isinstance(error, rx.RedisError):
        return None
    diagnosis = classify(error, target, stage="check")
    return diagnosis if diagnosis.fault in STOPPED_ANSWERING else None


class _Say:
    """Build the one-line message: fault, where, next step."""

    def __init__(self, target: Target) -> None:
        self.where = target.address

    def __call__(self, fault: Fault, next_step: str) -> Diagnosis:
        return Diagnosis(fault, f"{fault.value} at {self.where}: {next_step}")


def _redis_reply_diagnosis(
    upper: str, text: str, target: Target, diagnosis: _Say, stage: str
) -> Diagnosis:
    topology = _topology_diagnosis(upper, text, diagnosis)
    if topology is not None:
        return topology
    if "NOAUTH" in upper or "AUTHENTICATION REQUIRED" in upper:
        return diagnosis(
            Fault.NOAUTH,
            "the server requires a password but REDIS_URL has none "
            "(add redis://:PASSWORD@... or redis://USER:PASSWORD@...)",
        )
    if "WRONGPASS" in upper or "INVALID USERNAME-PASSWORD" in upper or "INVALID PASSWORD" in upper:
        return diagnosis(
            Fault.WRONGPASS,
            "the server rejected the username/password in REDIS_URL; check both "
            "(ACL LIST on the server shows the users)",
        )
    if "AUTH <PASSWORD> CALLED WITHOUT" in upper or "WITHOUT ANY PASSWORD CONFIGURED" in upper:
        return diagnosis(
            Fault.WRONGPASS,
            "REDIS_URL carries a password but the server has none configured; remove it "
            "from the URL or set requirepass on the server",
        )
    if "NOPERM" in upper:
        return _noperm_diagnosis(text, target, diagnosis)
    if any(sign in upper for sign in _UNAVAILABLE_COMMAND):
        return diagnosis(
            Fault.UNKNOWN_COMMAND,
            f"{_command_named(text)} is renamed or disabled on this server (managed services do "
            "this); checks that need it are skipped",
        )
    if "MISCONF" in upper:
        return diagnosis(
            Fault.MISCONF,
            "the last save (RDB snapshot or AOF write) failed, and Redis refuses writes and PING "
            "until one succeeds; "
            "check disk space and that 'dir' is writable (the server log says why)",
        )
    if "MAX NUMBER OF CLIENTS" in upper:
        return diagnosis(
            Fault.MAXCLIENTS,
            "the server refuses new clients; look for a connection leak (CLIENT LIST) or raise maxclients",
        )
    if "LOADING" in upper:
        return diagnosis(
            Fault.LOADING,
            "the server is still loading its dataset into memory; retry when loading ends",
        )
    if "MASTERDOWN" in upper:
        return diagnosis(
            Fault.MASTERDOWN,
            "this replica has lost its primary; check the primary and master_link_status",
        )
    if "READONLY" in upper:
        return diagnosis(
            Fault.READONLY,
            "this is a read-only replica; point REDIS_URL at the primary",
        )
    if "DB INDEX IS OUT OF RANGE" in upper or "INVALID DB INDEX" in upper:
        return diagnosis(
            Fault.DB_RANGE,
            f"db {target.db} does not exist on this server; use a db below its "
            "'databases' setting (usually /0)",
        )
    if "PROTOCOL ERROR" in upper:
        return diagnosis(
            Fault.NOT_REDIS,
            "something answers on that port but does not speak Redis (an HTTP or other "
            "service?); check the port in REDIS_URL",
        )
    if "CLOSED BY SERVER" in upper or "RESET BY PEER" in upper or "BROKEN PIPE" in upper:
        return _closed_diagnosis(target, diagnosis, stage)
    return diagnosis(Fault.OTHER, f"{_first_line(text)}")


def _topology_diagnosis(upper: str, text: str, diagnosis: _Say) -> Diagnosis | None:
    """Replies only a Redis Cluster or a Sentinel gives."""
    if "SELECT IS NOT ALLOWED IN CLUSTER MODE" in upper:
        return diagnosis(Fault.CLUSTER_DB, "Redis Cluster has no other db: use /0 in REDIS_URL")
    if "CLUSTERDOWN" in upper:
        return diagnosis(
            Fault.CLUSTERDOWN,
            "the cluster refuses commands because hash slots are not served; check cluster_state "
            "(CLUSTER INFO) and the failing nodes (CLUSTER NODES), then redis-cli --cluster fix",
        )
    if upper.startswith("MOVED") or " MOVED " in f" {upper} ":
        return diagnosis(
            Fault.MOVED,
            f"the key lives on another cluster node ({_first_line(text)}); the application "
            "needs a cluster client (redis.cluster.RedisCluster), not a plain one",
        )
    if "NOQUORUM" in upper:
        return diagnosis(
            Fault.NOQUORUM,
            f"{_first_line(text).removeprefix('NOQUORUM ')}: no automatic failover is possible; "
            "start the missing sentinels or fix their network (SENTINEL CKQUORUM on each)",
        )
    if "UNKNOWN COMMAND 'SENTINEL'" in upper:
        return diagnosis(
            Fault.NOT_SENTINEL,
            "this port answers as a plain Redis server; the URL's hosts must be the sentinels' "
            "(usually port 26379)",
        )
    if "NO SUCH MASTER WITH THAT NAME" in upper:
        return diagnosis(
            Fault.SENTINEL_UNKNOWN_SERVICE,
            "this sentinel monitors no primary by the URL's service name; check the name "
            "(SENTINEL MASTERS lists them)",
        )
    return None


# redis-py names the node it failed to reach: "Error 111 connecting to 10.0.0.5:6379."
_CONNECTING_TO = re.compile(r"connecting to (\S+):(\d+)\.")


def _other_node(text: str, target: Target) -> Target | None:
    match = _CONNECTING_TO.search(text)
    if match is None or target.is_unix:
        return None
    host, port = match.group(1).strip("[]"), int(match.group(2))
    if (host, port) == (target.host, target.port):
        return None
    return replace(target, host=host, port=port, sentinels=None)


# A node the verifier cannot reach at all, as opposed to one that answers and refuses.
_TRANSPORT = (Fault.DNS, Fault.REFUSED, Fault.CONNECT_TIMEOUT, Fault.TLS_TO_PLAINTEXT)


def unreachable_node(diagnosis: Diagnosis, address: str, cluster_flag: str | None) -> Diagnosis:
    """A cluster node the verifier failed to reach, worded by what the cluster thinks of it.

    `cluster_flag` is "fail" or "pfail" when the cluster itself sees the node failing.
    """
    if diagnosis.fault not in _TRANSPORT:
        return diagnosis
    seen = diagnosis.fault.value
    if cluster_flag is not None:
        return Diagnosis(
            Fault.NODE_DOWN,
            f"node down at {address}: {seen} here, and the cluster flags it {cluster_flag} too; "
            "restart it, or replace it and CLUSTER FORGET its id on every node",
        )
    return Diagnosis(
        Fault.ANNOUNCED_UNREACHABLE,
        f"announced address unreachable at {address}: the cluster sends clients there but this "
        f"machine gets {seen}; a NAT or container address? set cluster-announce-ip/-port "
        "(or cluster-announce-hostname) to an address clients can reach",
    )


def sentinel_failure(service: str, hosts: str, answered: bool, first_failure: Diagnosis | None) -> Diagnosis:
    """No primary address from the sentinels: none answered, or none knows the service."""
    if not answered:
        return Diagnosis(
            Fault.SENTINEL_UNREACHABLE,
            f"no sentinel answered at {hosts} ({first_failure}); check the sentinel hosts and ports "
            "in the URL, and that redis-sentinel runs there",
        )
    return Diagnosis(
        Fault.SENTINEL_UNKNOWN_SERVICE,
        f"the sentinels at {hosts} know no primary named {service!r}; check the service name "
        "in the URL (SENTINEL MASTERS lists them)",
    )


# How servers refuse a command they renamed or disabled: rename-command, managed proxies,
# enable-debug-command no.
_UNAVAILABLE_COMMAND = ("UNKNOWN COMMAND", "UNKNOWN SUBCOMMAND", "UNSUPPORTED COMMAND", "COMMAND NOT ALLOWED")


def _command_named(text: str) -> str:
    """The command an error names ("unknown command 'CONFIG', with args ..."), or a stand-in."""
    match = re.search(
        r"(?:unknown|unsupported) (?:sub)?command [`'\"]?([\w|-]+)|(\w+) command not allowed",
        text,
        re.IGNORECASE,
    )
    return (match[1] or match[2]).upper() if match else "a command"


def _closed_diagnosis(target: Target, diagnosis: _Say, stage: str) -> Diagnosis:
    if stage == "check":
        return diagnosis(
            Fault.CLOSED,
            "the server hung up mid-run after answering earlier checks: it restarted, crashed "
            "or killed this client; check its log and uptime_in_seconds",
        )
    if not target.tls:
        return diagnosis(
            Fault.PLAINTEXT_TO_TLS,
            "the server hung up on a plaintext client; if the port speaks TLS use "
            "rediss://, else check the server log (maxclients, protected mode, bind)",
        )
    return diagnosis(
        Fault.CLOSED,
        "the server hung up; check the server log (maxclients, TLS client certificates)",
    )


def _timeout_diagnosis(stage: str, diagnosis: _Say) -> Diagnosis:
    if stage == "connect":
        return diagnosis(
            Fault.CONNECT_TIMEOUT,
            "no answer to the TCP connect; check host, port and firewalls, or raise "
            "--connect-timeout on a slow network",
        )
    if stage == "tls":
        return diagnosis(
            Fault.TLS_TIMEOUT,
            "the TLS handshake got no answer, nor did a plaintext PING: the server is stalled "
            "or the port is not Redis; check the port and the server",
        )
    return diagnosis(
        Fault.READ_TIMEOUT,
        "connected but no reply in time: the server is stalled or busy, or the port "
        "is not Redis; check SLOWLOG and the server, or raise --socket-timeout",
    )


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


# --- authentication and TLS ---------------------------------------------------------------

# OpenSSL verify codes (X509_V_ERR_*) -> fault and next step.
_UNTRUSTED = "give the server's CA bundle with --tls-ca-file (a managed service publishes one)"
_VERIFY_CODES = {
    2: (Fault.TLS_UNKNOWN_CA, _UNTRUSTED),
    9: (Fault.TLS_NOT_YET_VALID, "check the clocks of this machine and of the server, or reissue it"),
    10: (Fault.TLS_EXPIRED, "renew the server certificate (tls-cert-file) and reload it"),
    18: (Fault.TLS_UNKNOWN_CA, "give that certificate, or the CA that issued it, with --tls-ca-file"),
    19: (Fault.TLS_UNKNOWN_CA, _UNTRUSTED),
    20: (Fault.TLS_UNKNOWN_CA, _UNTRUSTED),
    21: (Fault.TLS_UNKNOWN_CA, _UNTRUSTED),
}
_MISMATCH = "connect with a name the certificate lists (see test_tls_certificate) or reissue it for this one"
_OLD_PROTOCOL = (
    "the server offers {version}; enable TLS 1.2 and 1.3 on it (tls-protocols \"TLSv1.2 TLSv1.3\")"
)


def _verify_diagnosis(error: ssl.SSLCertVerificationError, diagnosis: _Say) -> Diagnosis:
    reason = str(error.verify_message).rstrip(".")
    if error.verify_code in (62, 64):  # hostname / IP address mismatch
        return diagnosis(Fault.TLS_HOSTNAME, f"{reason}; {_MISMATCH}")
    fault, next_step = _VERIFY_CODES.get(
        error.verify_code, (Fault.TLS_VERIFY, "fix the certificate or give its CA with --tls-ca-file")
    )
    return diagnosis(fault, f"{reason}; {next_step}")


def _tls_alert_diagnosis(upper: str, text: str, diagnosis: _Say) -> Diagnosis:
    if "PROTOCOL_VERSION" in upper or "UNSUPPORTED_PROTOCOL" in upper:
        return diagnosis(Fault.TLS_OLD_PROTOCOL, _OLD_PROTOCOL.format(version="only TLS older than 1.2"))
    if "CERTIFICATE_REQUIRED" in upper:
        return diagnosis(
            Fault.TLS_CLIENT_CERT,
            "the server requires a client certificate (tls-auth-clients yes) and none was given; "
            "pass --tls-cert-file and --tls-key-file",
        )
    if "ALERT_UNKNOWN_CA" in upper or "ALERT_BAD_CERTIFICATE" in upper:
        return diagnosis(
            Fault.TLS_CLIENT_CERT_REJECTED,
            "the server rejected the client certificate: its issuer is not in the server's "
            "tls-ca-cert-file; use a certificate that CA issued (--tls-cert-file, --tls-key-file)",
        )
    return diagnosis(Fault.TLS, f"{_first_line(text)}; check the TLS port and certificates")


def _detected_diagnosis(error: BaseException, target: Target, diagnosis: _Say) -> Diagnosis | None:
    """Failures a probe proved by a second look (the port's other protocol, the password alone)."""
    if isinstance(error, TlsToPlaintext):
        return diagnosis(
            Fault.TLS_TO_PLAINTEXT,
            "the port answers plaintext Redis, not TLS; use redis:// instead of rediss://, "
            "or the server's TLS port (tls-port)",
        )
    if isinstance(error, PlaintextToTls):
        return diagnosis(
            Fault.PLAINTEXT_TO_TLS,
            "the port speaks TLS; use rediss:// (and --tls-ca-file for a private CA)",
        )
    if isinstance(error, LegacyTls):
        return diagnosis(Fault.TLS_OLD_PROTOCOL, _OLD_PROTOCOL.format(version=f"only {error}"))
    if isinstance(error, UsernameWithoutAcl):
        return diagnosis(
            Fault.NO_ACL_USER,
            f"the server rejects user {target.username!r} but accepts the password alone "
            "(requirepass only, or Redis < 6); drop the username (redis://:PASSWORD@...) or "
            f"create the user (ACL SETUSER {target.username} on >PASSWORD ~* +@all)",
        )
    return None


_FORBIDDEN_COMMAND = re.compile(r"run the '([^']+)' command")


def _noperm_diagnosis(text: str, target: Target, diagnosis: _Say) -> Diagnosis:
    """Name the command (or the key) the user may not use, and the grant that allows it."""
    user = target.username or "default"
    command = _FORBIDDEN_COMMAND.search(text)
    if command is None:
        return diagnosis(
            Fault.NOPERM,
            f"user {user!r} may not access a key or channel this check needs "
            f"({_first_line(text)}); widen its patterns (ACL SETUSER {user} ~...)",
        )
    name = command.group(1)
    return diagnosis(
        Fault.NOPERM,
        f"user {user!r} may not run {name.replace('|', ' ').upper()}; grant it "
        f"(ACL SETUSER {user} +{name}) to run this check",
    )
# --- The application's health endpoint (HEALTH_URL) ---------------------------------------------
# `where` is always the redacted URL: a token in HEALTH_URL never reaches a message.

EXPECTED_DOCUMENT = '{"status": "healthy", "version": "...", "services": {"redis": true, ...}}'
_HTML_TITLE = re.compile(r"<title[^>]*>([^<]*)</title>", re.IGNORECASE)


def classify_health(error: BaseException, where: str, *, stage: str) -> Diagnosis:
    """A failure fetching the health URL; `stage` is "dns", "connect", "tls" or "request"."""
    chain = list(_chain(error))
    text = " | ".join(str(e) for e in chain)
    if any(isinstance(e, socket.gaierror) for e in chain) or stage == "dns":
        return _at(Fault.DNS, where, "check the host name in HEALTH_URL and DNS from this machine")
    if any(isinstance(e, ConnectionRefusedError) for e in chain):
        return _at(Fault.REFUSED, where, "nothing listens there; is the application running, on that port?")
    if any(isinstance(e, ssl.SSLCertVerificationError) for e in chain):
        reason = next(e.verify_message for e in chain if isinstance(e, ssl.SSLCertVerificationError))
        return _at(Fault.TLS_VERIFY, where, f"{reason}; give the CA that signs it with --health-ca-file")
    if "WRONG_VERSION_NUMBER" in text.upper():
        return _at(
            Fault.TLS_TO_PLAINTEXT, where, "the port answers plain HTTP; use http:// or the HTTPS port"
        )
    if _is_timeout(chain) and stage == "connect":
        return _at(Fault.CONNECT_TIMEOUT, where, "no answer to the TCP connect; check host, port, firewalls")
    if _is_timeout(chain):
        return _at(
            Fault.READ_TIMEOUT,
            where,
            "connected but no complete answer in time: the application (or its TLS) is stalled or waits "
            "on a slow dependency; check its logs, or raise --socket-timeout",
        )
    if any(isinstance(e, ssl.SSLError) for e in chain):
        return _at(Fault.TLS, where, f"{_first_line(text)}; check the HTTPS port and --health-ca-file")
    if any(isinstance(e, (http.client.HTTPException, ConnectionResetError)) for e in chain):
        return _at(
            Fault.NOT_HTTP,
            where,
            "the server hung up without an HTTP answer; if the port speaks HTTPS use https://",
        )
    return _at(Fault.OTHER, where, _first_line(text))


def classify_health_status(status: int, reason: str, where: str) -> Diagnosis | None:
    """None for 200; else what the status means for a health endpoint, and the next step."""
    seen = f"HTTP {status} {reason}".strip() + f" at {where}"
    if status == 200:
        return None
    if status == 404:
        path = f"{SEED_PATH} (http://HOST:8000{SEED_PATH})"
        return Diagnosis(Fault.HTTP_NOT_FOUND, f"{seen}: no such path; the application's endpoint is {path}")
    if status >= 500:
        return Diagnosis(
            Fault.HTTP_SERVER_ERROR,
            f"{seen}: the application failed or is down, or a proxy in front of it cannot reach it; "
            "check the application's process and logs",
        )
    return Diagnosis(
        Fault.HTTP_STATUS, f"{seen}, expected 200: check the URL, and its credentials or token for 401/403"
    )


def health_redirect_failure(hops: list[str], where: str, *, looped: bool, limit: int) -> Diagnosis:
    """Redirects that lead nowhere: a loop, too many, or a Location that is not http(s)."""
    path = " -> ".join(hops)
    if looped:
        return Diagnosis(
            Fault.REDIRECT_LOOP,
            f"redirect loop at {where}: {path}; fix the redirect rules of the application or its "
            "proxy (http->https, trailing slash), or give the final URL",
        )
    if len(hops) > limit + 1:
        return Diagnosis(Fault.REDIRECT_LOOP, f"over {limit} redirects at {where}: {path}; use the last URL")
    return Diagnosis(Fault.HTTP_STATUS, f"a redirect at {where} leads to {hops[-1]!r}; give the final URL")


def classify_health_body(error: ValidationError, body: bytes, content_type: str, where: str) -> Diagnosis:
    """Why the body is not the health document: HTML, invalid JSON, or missing/mistyped fields."""
    problems = error.errors()
    kinds = {problem["type"] for problem in problems}
    text = body.decode("utf-8", errors="replace").strip()
    if "json_invalid" in kinds and ("html" in content_type.lower() or text.startswith("<")):
        title = _HTML_TITLE.search(text)
        page = f" ({title.group(1).strip()[:80]!r})" if title else ""
        return Diagnosis(
            Fault.NOT_JSON,
            f"an HTML page{page} at {where} where JSON was expected: a proxy, login or error page "
            "answered; check that HEALTH_URL points at the application's health endpoint",
        )
    if "json_invalid" in kinds:
        seen = f"invalid JSON at {where} ({problems[0]['msg']}; body starts {text[:40]!r})"
        return Diagnosis(Fault.NOT_JSON, f"{seen}: expected {EXPECTED_DOCUMENT}")
    if "model_type" in kinds:
        return Diagnosis(
            Fault.BAD_DOCUMENT, f"JSON but not an object at {where}: expected {EXPECTED_DOCUMENT}"
        )
    missing = [_dotted(p["loc"]) for p in problems if p["type"] == "missing"]
    mistyped = [f"{_dotted(p['loc'])}: {p['msg'].lower()}" for p in problems if p["type"] != "missing"]
    said = "; ".join(([f"no {', '.join(missing)}"] if missing else []) + mistyped)
    return Diagnosis(
        Fault.BAD_DOCUMENT, f"the health document at {where} has {said}: expected {EXPECTED_DOCUMENT}"
    )


def _dotted(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc)


def _at(fault: Fault, where: str, next_step: str) -> Diagnosis:
    return Diagnosis(fault, f"{fault.value} at {where}: {next_step}")
