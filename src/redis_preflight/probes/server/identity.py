"""Who answers: version, mode, role, os, and a managed provider where INFO reveals one.

Read from the server snapshot's one INFO; the connection area's test_server_identity shows it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# What INFO says on managed services that reveal themselves (os or version lines).
PROVIDER_HINTS = (
    ("Amazon ElastiCache", "AWS ElastiCache"),
    ("Amazon MemoryDB", "AWS MemoryDB"),
    ("Redis Enterprise", "Redis Cloud / Redis Enterprise"),
    ("Azure", "Azure Cache for Redis"),
    ("Upstash", "Upstash"),
)


@dataclass(frozen=True)
class ServerIdentity:
    version: str
    mode: str
    role: str
    os: str
    provider: str | None

    def __str__(self) -> str:
        managed = f", {self.provider}" if self.provider else ""
        return f"redis {self.version}, {self.mode}, {self.role}{managed} ({self.os})"


def identity_of(info: Mapping[str, Any]) -> ServerIdentity:
    """The identity in an INFO reply already taken (the server area's one snapshot per run)."""
    text = " ".join(str(info.get(k, "")) for k in ("os", "redis_version", "server_name"))
    provider = next((name for hint, name in PROVIDER_HINTS if hint in text), None)
    if provider is None and "rlec_version" in info:
        provider = "Redis Cloud / Redis Enterprise"
    role = str(info.get("role", "unknown"))
    return ServerIdentity(
        version=str(info.get("redis_version", "unknown")),
        mode=str(info.get("redis_mode", "standalone")),
        role="primary" if role == "master" else role,
        os=str(info.get("os", "unknown")),
        provider=provider,
    )
