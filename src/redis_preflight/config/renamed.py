"""Commands the server renamed (`rename-command CONFIG b840fc02...`): one map for every sender.

The new name is as good as a password (whoever knows it can run CONFIG SET), so it is a
secret: given as SecretStr, registered with the run's secrets, never shown.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from pydantic import SecretStr

_COMMAND = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


def parse_renames(given: Iterable[str]) -> dict[str, SecretStr]:
    """`CONFIG=NAME` items: {"CONFIG": SecretStr(NAME)}; a malformed item raises ValueError.

    The message never quotes the new name, only the command it renames.
    """
    renames: dict[str, SecretStr] = {}
    for item in given:
        command, sep, name = item.strip().partition("=")
        if not sep or not _COMMAND.fullmatch(command.strip()):
            raise ValueError("each renamed command is COMMAND=NEW_NAME, e.g. CONFIG=b840fc02d524...")
        if not name.strip() or any(ch.isspace() for ch in name.strip()):
            raise ValueError(f"the new name of {command.strip().upper()} must be one word")
        renames[command.strip().upper()] = SecretStr(name.strip())
    return renames


@dataclass(frozen=True)
class CommandNames:
    """The name the server knows each command by; commands not renamed keep their own."""

    renamed: Mapping[bytes, bytes] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def of(cls, renames: Mapping[str, SecretStr]) -> CommandNames:
        wire = {k.upper().encode(): v.get_secret_value().encode() for k, v in renames.items()}
        return cls(MappingProxyType(wire))

    def __bool__(self) -> bool:
        return bool(self.renamed)

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(name.decode() for name in self.renamed.values())

    def wire(self, command: bytes | str) -> bytes:
        """The name to send for `command` ("config" or b"CONFIG")."""
        name = command.encode() if isinstance(command, str) else command
        return self.renamed.get(name.upper(), name)

    def args(self, args: tuple[Any, ...]) -> tuple[Any, ...]:
        """A command's arguments with its name renamed; "CONFIG GET" in one string is split first,
        as redis-py's packers do."""
        if not self.renamed or not args:
            return args
        first = args[0]
        if isinstance(first, (str, bytes)) and (" " in first if isinstance(first, str) else b" " in first):
            words = first.split()
            args = (*words, *args[1:])
        head = args[0]
        if isinstance(head, (str, bytes)):
            return (self.wire(head), *args[1:])
        return args
