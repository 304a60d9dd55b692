"""What a user may run, judged from its ACL rules: Redis 6 has no ACL DRYRUN (7.0+).

ACL GETUSER describes a user's command rights as rules that apply in order (`-@all +@read
+set +config|get`) and its key patterns; COMMAND INFO gives each command's categories and where
its keys are. Nothing is executed. Selectors (7.0+) are not judged here: DRYRUN serves 7.0+.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

import redis


@dataclass(frozen=True)
class CommandInfo:
    categories: frozenset[str]
    first_key: int
    last_key: int
    step: int

    def keys(self, args: tuple[str, ...]) -> tuple[str, ...]:
        if self.first_key <= 0:
            return ()
        # A negative last key counts from the end: -1 is the last argument.
        last = len(args) + self.last_key + 1 if self.last_key < 0 else self.last_key + 1
        return args[self.first_key : last : max(self.step, 1)]


@dataclass(frozen=True)
class AclRules:
    """A user's command rules, in order, and its key patterns."""

    commands: tuple[str, ...]
    key_patterns: tuple[str, ...]
    all_keys: bool

    def may_run(self, args: tuple[str, ...], info: CommandInfo | None) -> bool:
        """`info` None: the server knows no such command (renamed away): nobody may run it."""
        if info is None:
            return False
        keys = info.keys(args)
        return self._command_allowed(args, info) and all(self._key_allowed(key) for key in keys)

    def _command_allowed(self, args: tuple[str, ...], info: CommandInfo) -> bool:
        name = args[0].lower()
        subcommand = f"{name}|{args[1].lower()}" if len(args) > 1 else None
        allowed = False
        for rule in self.commands:
            if rule in ("allcommands", "nocommands"):
                allowed = rule == "allcommands"
                continue
            granted, what = rule[0] == "+", rule[1:].lower()
            if rule[0] not in "+-":
                continue
            if what == "@all" or (what.startswith("@") and what in info.categories):
                allowed = granted
            elif what == name or what == subcommand:
                allowed = granted
        return allowed

    def _key_allowed(self, key: str) -> bool:
        return self.all_keys or any(fnmatchcase(key, pattern) for pattern in self.key_patterns)


def read_rules(client: redis.Redis, user: str) -> AclRules | None:
    """ACL GETUSER: a map (RESP3) or a flat list (RESP2) of the user's fields."""
    reply = _raw(client, "ACL", "GETUSER", user)
    if not reply:
        return None
    pairs = reply.items() if isinstance(reply, dict) else zip(reply[0::2], reply[1::2], strict=True)
    fields = {_text(name): value for name, value in pairs}
    flags = {_text(flag) for flag in fields.get("flags") or ()}
    keys = fields.get("keys") or ()
    patterns = _text(keys).split() if isinstance(keys, (bytes, str)) else [_text(k) for k in keys]
    # 7.0 writes "~pattern" (or %R~ / %W~ for read / write only); 6.2 the bare pattern.
    patterns = [pattern.split("~", 1)[-1] for pattern in patterns]
    return AclRules(tuple(_text(fields.get("commands", b"")).split()), tuple(patterns), "allkeys" in flags)


def read_command_info(client: redis.Redis, names: list[str]) -> dict[str, CommandInfo | None]:
    reply = _raw(client, "COMMAND", "INFO", *names)
    found: dict[str, CommandInfo | None] = {}
    for name, entry in zip(names, reply, strict=True):
        if not entry:
            found[name] = None
            continue
        categories = frozenset(_text(c).lower() for c in (entry[6] if len(entry) > 6 else ()))
        found[name] = CommandInfo(categories, int(entry[3]), int(entry[4]), int(entry[5]))
    return found


def judge(client: redis.Redis, user: str, commands: list[tuple[str, ...]]) -> list[bool] | None:
    """Whether `user` may run each command, as the rules say; None when the user is unknown."""
    rules = read_rules(client, user)
    if rules is None:
        return None
    # 7.0+ knows subcommands apart (CONFIG SET is @dangerous, CONFIG GET not); Redis 6 only commands.
    names = sorted({args[0].lower() for args in commands} | {_subcommand(args) for args in commands} - {""})
    info = read_command_info(client, names)
    return [rules.may_run(args, info.get(_subcommand(args)) or info[args[0].lower()]) for args in commands]


def _subcommand(args: tuple[str, ...]) -> str:
    return f"{args[0]}|{args[1]}".lower() if len(args) > 1 else ""


def _raw(client: redis.Redis, *args: str) -> Any:
    """A reply as the server sent it: redis-py's parsers for these replies differ by version, and
    its ACL GETUSER parser splits categories from commands, losing the order the rules apply in."""
    connection = client.connection_pool.get_connection()
    try:
        connection.send_command(*args)  # type: ignore[no-untyped-call]
        reply = connection.read_response()
    except (redis.ConnectionError, redis.TimeoutError):
        connection.disconnect()  # type: ignore[no-untyped-call]
        raise
    finally:
        client.connection_pool.release(connection)
    return reply


def _text(value: Any) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)
