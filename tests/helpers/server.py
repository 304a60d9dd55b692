"""The server area's tests: the ACL line of docs/safety.md, which commands a run sent (commandstats),
an ACL fence that refuses the state-changing subcommands, a server whose saves fail."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from pathlib import Path

import redis

from helpers.clients import client_of, wait_until
from redis_preflight.ephemeral.local_server import LocalRedis

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


def failing_save(redis_factory: Callable[..., LocalRedis], *directives: str) -> LocalRedis:
    """Save rules on, and the dump file's path taken by a directory: every BGSAVE fails.

    Root ignores permission bits, but rename(2) of the temporary dump onto a directory fails
    for root too. The directory is made once loading is over: Redis would not start on it.
    """
    server = redis_factory("save 3600 1", *directives)
    client = client_of(server)
    wait_until(lambda: client.info("persistence")["loading"] == 0, "the dataset load to end")
    (server.directory / "dump.rdb").mkdir()
    client.set("token", "1")
    client.bgsave()
    wait_until(lambda: client.info("persistence")["rdb_last_bgsave_status"] == "err", "a failed BGSAVE")
    return server


# The subcommands that change nothing, of the commands whose other subcommands change the server.
SUBCOMMANDS_THAT_READ = {
    "config": ("get",),
    "slowlog": ("get", "len", "help"),
    "latency": ("latest", "history", "doctor", "graph", "help"),
    "client": (
        *("id", "info", "list", "getname", "setname", "setinfo", "reply", "tracking", "trackinginfo"),
        *("getredir", "caching", "no-evict", "no-touch", "help"),
    ),
    "acl": ("whoami", "getuser", "list", "users", "cat", "log", "genpass", "dryrun", "help"),
}


def fence_state_changes(client: redis.Redis, user: str = "default") -> None:
    """Let `user` run every command but the state-changing subcommands (CONFIG SET, SLOWLOG RESET...).

    Redis 6 counts calls per command, not per subcommand, and MONITOR shows no admin command:
    a refusal, logged by ACL LOG, is how a test sees that a run tried one, on every line.
    """
    rules = ["+@all"]
    for command, subcommands in SUBCOMMANDS_THAT_READ.items():
        kept = [sub for sub in subcommands if _known(client, command, sub)]
        rules += [f"-{command}", *(f"+{command}|{sub}" for sub in kept)]
    client.execute_command("ACL", "SETUSER", user, *rules)


def _known(client: redis.Redis, command: str, subcommand: str) -> bool:
    """Whether this line has the subcommand (7.0+ refuses a rule naming one it does not have)."""
    try:
        client.execute_command("ACL", "SETUSER", "fence-probe", f"+{command}|{subcommand}")
    except redis.ResponseError as error:
        if "Unknown command" not in str(error):
            raise
        return False
    finally:
        client.execute_command("ACL", "DELUSER", "fence-probe")
    return True
