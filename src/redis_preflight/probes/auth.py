"""Who the verifier is to the server: AUTH on the wire, anonymous access, and the user's rights."""

from __future__ import annotations

import re
import socket
import time
from dataclasses import dataclass
from io import BufferedIOBase
from typing import Any

import redis
from pydantic import SecretStr

from redis_preflight.config.renamed import CommandNames
from redis_preflight.config.settings import PreflightSettings
from redis_preflight.config.target import Target
from redis_preflight.errors import UsernameWithoutAcl, classify
from redis_preflight.probes import acl_rules


@dataclass(frozen=True)
class Authentication:
    """How the walk's own connection was let in, and how long AUTH took."""

    user: str | None  # None: REDIS_URL has no credentials and the server answered anyway
    elapsed_ms: float


def authenticate(sock: socket.socket, target: Target, settings: PreflightSettings) -> Authentication:
    """AUTH as REDIS_URL says, or a PING when it carries no credentials, timed on its own.

    Sent by hand on the walk's connection (TCP or TLS already up) so that AUTH is timed apart
    from the connect and the handshake, which a client library does all at once.
    """
    sock.settimeout(settings.socket_timeout)
    with sock.makefile("rwb") as stream:
        started = time.perf_counter()
        names = settings.command_names
        if not target.has_credentials:
            _call(stream, names, "PING", refusal_ok="MISCONF")
            return Authentication(None, (time.perf_counter() - started) * 1000)
        # The password (or cloud token) stays a SecretStr down to the bytes on the wire: no local
        # holds it as text for a traceback's locals (pytest -l) to show.
        username, password = target.credentials()
        try:
            _call(stream, names, "AUTH", *([username] if username else []), password)
        except redis.ResponseError as e:
            if username and _password_alone_accepted(stream, names, password):
                raise UsernameWithoutAcl("the password alone was accepted") from e
            raise
        return Authentication(username or "default", (time.perf_counter() - started) * 1000)


def _password_alone_accepted(stream: BufferedIOBase, names: CommandNames, password: SecretStr) -> bool:
    try:
        _call(stream, names, "AUTH", password)
    except redis.ResponseError:
        return False
    return True


def _call(
    stream: BufferedIOBase,
    names: CommandNames,
    name: str,
    *args: str | SecretStr,
    refusal_ok: str | None = None,
) -> str:
    """One RESP command (its name as the server knows it) and its one-line reply; an error reply
    raises with its code kept, unless it is the `refusal_ok` one (MISCONF to a PING: the server
    let the client in all the same)."""
    stream.write(_command((names.wire(name).decode(), *args)))
    stream.flush()
    line = stream.readline(4096)
    if not line:
        raise redis.ConnectionError("Connection closed by server.")
    reply = line.decode(errors="replace").rstrip("\r\n")
    if reply.startswith("-") and not (refusal_ok and reply[1:].startswith(refusal_ok)):
        raise redis.ResponseError(reply[1:])
    return reply[1:]


def _command(args: tuple[str | SecretStr, ...]) -> bytes:
    parts = [(arg.get_secret_value() if isinstance(arg, SecretStr) else arg).encode() for arg in args]
    return b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts)


# What nobody's application user should be able to run: one call empties or stops the server.
DANGEROUS = {
    "FLUSHALL": ("FLUSHALL",),
    "FLUSHDB": ("FLUSHDB",),
    "KEYS": ("KEYS", "*"),
    "CONFIG SET": ("CONFIG", "SET", "maxmemory", "0"),
    "DEBUG": ("DEBUG", "SLEEP", "0"),
    "SHUTDOWN": ("SHUTDOWN",),
}
# What the application runs on each of its key patterns (the contract in force names them).
APP_COMMANDS = {
    "GET": ("GET", "{key}"),
    "SET EX": ("SET", "{key}", "1", "EX", "60"),
    "EXPIRE": ("EXPIRE", "{key}", "60"),
    "TTL": ("TTL", "{key}"),
    "INCR": ("INCR", "{key}"),
    "DEL": ("DEL", "{key}"),
    "SCAN": ("SCAN", "0", "MATCH", "{glob}", "COUNT", "100"),
}


@dataclass(frozen=True)
class Privileges:
    """What the connected user may run, as ACL DRYRUN judges it (nothing is executed)."""

    user: str
    patterns: tuple[str, ...]  # the key patterns judged: the contract's, `user_session:*`
    rules: str | None  # its ACL rules; None where ACL GETUSER is not allowed
    dangerous: tuple[str, ...]  # dangerous commands it may run
    denied: tuple[tuple[str, str], ...]  # (command, key pattern) the application needs, refused
    unavailable: str | None = None  # why the server cannot judge (no ACL DRYRUN before 7.0)
    verifier_only: bool = False  # NOPERM for ACL DRYRUN: a least-privilege verifier user
    asked: str = "acl|dryrun"  # what judges the rights: ACL DRYRUN, or ACL GETUSER on Redis 6

    def denied_by_command(self) -> str:
        """`SET EX, INCR on user_session:*, blacklist:*; ...`, one clause per set of patterns."""
        patterns: dict[str, list[str]] = {}
        for command, pattern in self.denied:
            patterns.setdefault(command, []).append(pattern)
        clauses: dict[str, list[str]] = {}
        for command, where in patterns.items():
            clauses.setdefault(", ".join(where), []).append(command)
        return "; ".join(f"{', '.join(commands)} on {where}" for where, commands in clauses.items())

    def grant(self) -> str:
        """The ACL rules that would allow what was refused: `+set +incr ~blacklist:*`."""
        commands = dict.fromkeys(f"+{command.split()[0].lower()}" for command, _ in self.denied)
        patterns = dict.fromkeys(f"~{pattern}" for _, pattern in self.denied)
        return " ".join([*commands, *patterns])


def privileges(
    client: redis.Redis,
    user: str,
    prefixes: tuple[str, ...],
    target: Target,
    names: CommandNames | None = None,
) -> Privileges:
    """The user's rules and a dry run of the dangerous and the needed commands, in one round trip.

    `prefixes` are the key contract's (`user_session:`). NOPERM for ACL DRYRUN itself marks a
    verifier-only user: the checks say so, naming the grant.
    """
    globs = tuple(f"{prefix}*" for prefix in prefixes)
    needed = {
        (command, f"{prefix}*"): tuple(a.format(key=f"{prefix}preflight", glob=f"{prefix}*") for a in args)
        for prefix in prefixes
        for command, args in APP_COMMANDS.items()
    }
    commands = [*DANGEROUS.values(), *needed.values()]
    allowed: list[bool] | None = None
    asked = "acl|dryrun"
    try:
        try:
            allowed = _dry_run(client, user, commands, names or CommandNames())
        except redis.exceptions.NoPermissionError as e:
            if not _redis_6_acl(e):
                raise
        except redis.ResponseError as e:
            # Redis 6 answers "Unknown subcommand ... 'DRYRUN'": its rules are judged instead. Any
            # other refusal (ACL renamed away on a managed service, an LDAP user) leaves it unjudged.
            said = str(e).lower()
            if "subcommand" not in said or "dryrun" not in said:
                rules = _rules(client, user) if "unknown command" not in said else None
                return Privileges(user, globs, rules, (), (), unavailable=_why_no_dry_run(e, user))
        if allowed is None:  # Redis 6: no DRYRUN (a user without ACL rights gets NOPERM first)
            asked = "acl|getuser"
            try:
                allowed = _judged_by_rules(client, user, commands)
            except redis.exceptions.NoPermissionError:
                raise
            except redis.ResponseError as e:
                return Privileges(user, globs, None, (), (), unavailable=_why_no_dry_run(e, user))
    except redis.exceptions.NoPermissionError as e:
        reason = classify(e, target).message
        return Privileges(user, globs, None, (), (), unavailable=reason, verifier_only=True, asked=asked)
    if allowed is None:
        unknown = f"ACL GETUSER knows no user {user!r}"
        return Privileges(user, globs, None, (), (), unavailable=unknown, asked=asked)
    verdicts = dict(zip([*DANGEROUS, *needed], allowed, strict=True))
    return Privileges(
        user=user,
        patterns=globs,
        rules=_rules(client, user),
        dangerous=tuple(name for name in DANGEROUS if verdicts[name]),
        denied=tuple(key for key in needed if not verdicts[key]),
    )


# Redis: "User 'x' not found"; Redis Enterprise and Redis Cloud for LDAP users: "unknown user".
_UNKNOWN_USER = re.compile(r"unknown user|user '.*' not found", re.IGNORECASE)


def _judged_by_rules(client: redis.Redis, user: str, commands: list[tuple[str, ...]]) -> list[bool] | None:
    """Redis 6 has no ACL DRYRUN: the user's rules (ACL GETUSER) are judged here instead."""
    try:
        return acl_rules.judge(client, user, commands)
    except redis.exceptions.NoPermissionError as e:
        if _redis_6_acl(e):
            raise _getuser_forbidden() from e
        raise


def _redis_6_acl(error: redis.exceptions.NoPermissionError) -> bool:
    return "'acl' command or its subcommand" in str(error).lower()


def _getuser_forbidden() -> redis.exceptions.NoPermissionError:
    """Redis 6 says only "the 'acl' command or its subcommand": name the one it takes, ACL GETUSER,
    in 7.0's words, so that the grant advised is +acl|getuser and not all of ACL."""
    return redis.exceptions.NoPermissionError("this user has no permissions to run the 'acl|getuser' command")


def _why_no_dry_run(error: redis.ResponseError, user: str) -> str:
    text = str(error)
    if _UNKNOWN_USER.search(text):
        # Redis Cloud / Software: LDAP users are unknown to ACL DRYRUN even when AUTH succeeds.
        return (
            f"ACL DRYRUN does not know user {user!r}, though it logged in: an externally managed "
            "user (LDAP on Redis Enterprise or Redis Cloud) whose rights ACL rules do not hold; "
            "check its role's Redis ACL in the provider's console"
        )
    return (
        f"ACL DRYRUN is not available ({text}): it needs Redis 7.0+ and an ACL command not renamed "
        "(commands table in report.html)"
    )


def _dry_run(
    client: redis.Redis, user: str, commands: list[tuple[str, ...]], names: CommandNames
) -> list[bool]:
    with client.pipeline(transaction=False) as pipe:
        for args in commands:
            # A renamed command is dry-run under its new name: the one the user could run.
            pipe.execute_command("ACL", "DRYRUN", user, names.wire(args[0]), *args[1:])  # type: ignore[no-untyped-call]
        replies = pipe.execute(raise_on_error=False)
    allowed = []
    for args, reply in zip(commands, replies, strict=True):
        if isinstance(reply, redis.ResponseError):
            # A command disabled by rename-command is "not found": nobody may run it.
            text = str(reply).lower()
            if _UNKNOWN_USER.search(text) or "not found" not in text or args[0].lower() not in text:
                raise reply
            allowed.append(False)
        else:
            allowed.append(reply in (b"OK", "OK"))
    return allowed


REDIS_6_FLAGS = ("allkeys", "allchannels", "allcommands")


def _rules(client: redis.Redis, user: str) -> str | None:
    try:
        found: Any = client.acl_getuser(user)
    except redis.ResponseError:  # NOPERM included: the rules are shown only where allowed
        return None
    if not found:
        return None
    # Never the "passwords" field: hashes stay out of reports too. Shown as 7.0+ writes them:
    # Redis 6 gives bare patterns, and flags that repeat the rules (allkeys for ~*, ...).
    flags = [str(flag) for flag in found.get("flags") or () if flag not in REDIS_6_FLAGS]
    keys = [_pattern(rule, "~") for rule in found.get("keys") or ()]
    channels = [_pattern(rule, "&") for rule in found.get("channels") or ()]
    commands = [str(rule) for name in ("categories", "commands") for rule in found.get(name) or ()]
    rules = [*flags, *keys, *channels, *commands]
    if found.get("selectors"):
        rules.append(f"(+{len(found['selectors'])} selectors)")
    return " ".join(rules)


def _pattern(rule: object, sign: str) -> str:
    text = rule.decode(errors="replace") if isinstance(rule, bytes) else str(rule)
    return text if text[:1] in "~&%" else f"{sign}{text}"
