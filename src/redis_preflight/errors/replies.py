"""classify: any failure talking to Redis, and the wording of the server's replies."""

from __future__ import annotations

import re
import socket
import ssl

import redis.exceptions as rx

from redis_preflight.config.target import Target
from redis_preflight.errors.bounds import ReplyDeadline, ReplyTooLarge, RunDeadlinePassed
from redis_preflight.errors.faults import Diagnosis, Fault, _chain, _first_line, _is_timeout, _Say
from redis_preflight.errors.tls import _detected_diagnosis, _tls_alert_diagnosis, _verify_diagnosis
from redis_preflight.errors.topology import _other_node, _topology_diagnosis, unreachable_node


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
    bound = _bound_diagnosis(chain)
    if bound is not None:
        return bound
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
    if target.is_unix:
        socket_fault = _socket_diagnosis(chain, target, diagnosis)
        if socket_fault is not None:
            return socket_fault
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


def _bound_diagnosis(chain: list[BaseException]) -> Diagnosis | None:
    """A bound the verifier keeps (docs/bounds.md) was crossed: the message names it and its option."""
    for error in chain:
        if isinstance(error, RunDeadlinePassed):
            return Diagnosis(Fault.RUN_DEADLINE, f"{error}: the checks left are unverified; raise it")
        if isinstance(error, ReplyTooLarge):
            return Diagnosis(Fault.REPLY_TOO_LARGE, str(error))
        if isinstance(error, ReplyDeadline):
            return Diagnosis(
                Fault.READ_TIMEOUT,
                f"{Fault.READ_TIMEOUT.value} at {error.peer}: no complete {error.command} reply within "
                f"{error.seconds:g} s: the server is stalled, busy or trickling its reply; check SLOWLOG "
                "and the server, or raise --socket-timeout",
            )
    return None


# Mid-run, these mean the server is gone or stalled: every later check would only wait for it.
STOPPED_ANSWERING = frozenset(
    {Fault.REFUSED, Fault.NO_SOCKET, Fault.CONNECT_TIMEOUT, Fault.READ_TIMEOUT, Fault.CLOSED, Fault.LOADING}
)


def stopped_answering(error: BaseException, target: Target) -> Diagnosis | None:
    """The diagnosis when a check's Redis call failed because the server went away or stalled."""
    if not isinstance(error, rx.RedisError):
        return None
    diagnosis = classify(error, target, stage="check")
    return diagnosis if diagnosis.fault in STOPPED_ANSWERING else None


def _redis_reply_diagnosis(upper: str, text: str, target: Target, diagnosis: _Say, stage: str) -> Diagnosis:
    if "DENIED" in upper and "PROTECTED MODE" in upper:
        return diagnosis(
            Fault.PROTECTED_MODE,
            "the server takes clients from loopback only, as the default user has no password; do "
            "one: give the default user a password (requirepass, or ACL SETUSER default >PASSWORD) "
            "and put it in REDIS_URL; or, on a private network only, turn protected mode off "
            "(CONFIG SET protected-mode no from the server's own host, then CONFIG REWRITE; or "
            "protected-mode no in redis.conf; or start it with --protected-mode no)",
        )
    topology = _topology_diagnosis(upper, text, diagnosis)
    if topology is not None:
        return topology
    if "NOAUTH" in upper or "AUTHENTICATION REQUIRED" in upper:
        form = (
            f"unix://:PASSWORD@{target.socket_path}?db={target.db} or unix://USER:PASSWORD@..."
            if target.is_unix
            else "redis://:PASSWORD@... or redis://USER:PASSWORD@..."
        )
        return diagnosis(Fault.NOAUTH, f"the server requires a password but REDIS_URL has none (add {form})")
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
            "this); checks that need it fall back to INFO or say why not (commands table in "
            "report.html; --renamed-command COMMAND=NEW_NAME if you know its new name)",
        )
    if "MISCONF" in upper:
        failed = "the last AOF write" if "AOF" in upper else "the last RDB snapshot (BGSAVE)"
        return diagnosis(
            Fault.MISCONF,
            f"the server refuses every write (and PING) because {failed} failed; reads still answer. "
            "Check disk space and that 'dir' is writable (the server log says why), then BGSAVE",
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
        return db_out_of_range(target, None)
    if "PROTOCOL ERROR" in upper:
        return diagnosis(
            Fault.NOT_REDIS,
            "something answers on that port but does not speak Redis (an HTTP or other "
            "service?); check the port in REDIS_URL",
        )
    if "CLOSED BY SERVER" in upper or "RESET BY PEER" in upper or "BROKEN PIPE" in upper:
        return _closed_diagnosis(target, diagnosis, stage)
    return diagnosis(Fault.OTHER, f"{_first_line(text)}")


def db_out_of_range(target: Target, databases: int | None) -> Diagnosis:
    """The db index of REDIS_URL is not below the server's `databases`, which only it knows."""
    if databases is None:
        has = "this server's `databases` setting is lower (CONFIG GET databases was not allowed)"
    else:
        has = f"this server has `databases` {databases} (db 0 to {databases - 1})"
    return _Say(target)(
        Fault.DB_RANGE,
        f"db {target.db} does not exist: {has}; use a lower db in REDIS_URL (usually /0), or raise "
        "`databases` in redis.conf",
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
        f"(ACL SETUSER {user} +{name}) to run this check (commands table in report.html)",
    )


def _socket_diagnosis(chain: list[BaseException], target: Target, diagnosis: _Say) -> Diagnosis | None:
    """A unix socket fails as a file does: missing, not permitted, or left behind by a dead server."""
    if any(isinstance(e, FileNotFoundError) for e in chain):
        return diagnosis(
            Fault.NO_SOCKET,
            "no such socket file; check the server's 'unixsocket' setting (redis-cli CONFIG GET "
            "unixsocket) and that the server runs, or connect over TCP",
        )
    if any(isinstance(e, PermissionError) for e in chain):
        return diagnosis(
            Fault.SOCKET_PERMISSION,
            "this user may not open the socket file; check 'unixsocketperm' on the server and "
            "that this user is in the socket's group",
        )
    if any(isinstance(e, ConnectionRefusedError) for e in chain):
        return diagnosis(
            Fault.REFUSED,
            "the socket file exists but no server listens on it (a server that stopped left it "
            "behind); start the server or check the 'unixsocket' path",
        )
    return None
