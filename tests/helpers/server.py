"""The server area's tests: the ACL line of docs/safety.md, and which commands a run sent (commandstats)."""

from __future__ import annotations

import shlex
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parents[2]


def documented_acl_line() -> list[str]:
    """docs/safety.md's least-privilege ACL SETUSER line, as redis-cli would send it."""
    safety = (ROOT / "docs" / "safety.md").read_text()
    lines = [line for line in safety.splitlines() if line.startswith("ACL SETUSER preflight ")]
    assert len(lines) == 1, f"docs/safety.md has {len(lines)} 'ACL SETUSER preflight' lines"
    return shlex.split(lines[0])


def command_calls(client: redis.Redis) -> dict[str, int]:
    """INFO commandstats as {"config|get": calls, ...}."""
    stats = client.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(entry["calls"]) for name, entry in stats.items()}


def commands_called(before: dict[str, int], after: dict[str, int]) -> set[str]:
    return {name for name, calls in after.items() if calls > before.get(name, 0)}


def command_flags(client: redis.Redis, names: set[str]) -> dict[str, list[str]]:
    """COMMAND INFO flags and ACL categories of each command (subcommands as "config|get")."""
    reply = client.execute_command("COMMAND", "INFO", *sorted(names))
    return {name: [*info["flags"], *info["acl_categories"]] for name, info in reply.items()}
