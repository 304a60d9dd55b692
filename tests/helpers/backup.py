"""Keyspaces for the backup tests: every type, binary names and values, TTLs of an hour and more."""

from __future__ import annotations

import random
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import redis

from conftest import clean_env

HOUR_MS = 3_600_000
BATCH = 2000


def seed_every_type(client: redis.Redis, keys: int, seed: int = 7) -> None:
    """`keys` keys, a sixth of each type; every 7th name and every 5th value are not UTF-8, every
    3rd key expires between 1 h and 30 days from now (ms precision), a few keys are large enough
    for Redis' big encodings (hashtable, quicklist, skiplist) and some streams have groups."""
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    now_ms = int(time.time() * 1000)
    pipe = client.pipeline(transaction=False)
    for n in range(keys):
        name = (b"\xff\x00bin:" if n % 7 == 0 else b"key:") + str(n).encode()
        value = rng.randbytes(12) if n % 5 == 0 else f"value {n} \u00f1".encode()
        size = 600 if n % 997 == 0 else 3
        kind = n % 6
        if kind == 0:
            pipe.set(name, value)
        elif kind == 1:
            pipe.hset(name, mapping={f"f{i}".encode(): value + bytes([i % 256]) for i in range(size)})
        elif kind == 2:
            pipe.rpush(name, *[value + str(i).encode() for i in range(size)])
        elif kind == 3:
            pipe.sadd(name, *[value + str(i).encode() for i in range(size)])
        elif kind == 4:
            pipe.zadd(name, {value + str(i).encode(): rng.random() * 1000 for i in range(size)})
        else:
            for i in range(min(size, 50)):
                pipe.xadd(name, {b"field": value, b"i": str(i)})
            if n % 4 == 5 % 4:
                pipe.xgroup_create(name, "readers", id="0")
        if n % 3 == 0:
            pipe.pexpireat(name, now_ms + HOUR_MS + rng.randrange(30 * 24 * HOUR_MS))
        if n % BATCH == BATCH - 1:
            pipe.execute()
    pipe.execute()


@dataclass(frozen=True)
class Ran:
    returncode: int
    output: str


def subcommand(*args: str, cwd: Path | None = None) -> Ran:
    """`redis-preflight backup|restore ...` in a subprocess, CI set so no progress line is drawn."""
    done = subprocess.run(
        [sys.executable, "-m", "redis_preflight.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=cwd,
        env=clean_env(CI="true"),
    )
    return Ran(done.returncode, done.stdout + done.stderr)


def calls(client: redis.Redis) -> dict[str, int]:
    """INFO commandstats: calls per command name."""
    return {name.removeprefix("cmdstat_"): int(s["calls"]) for name, s in client.info("commandstats").items()}


def writes(client: redis.Redis, names: dict[str, int]) -> list[str]:
    """The commands among `names` that COMMAND INFO flags as writes."""
    found = []
    for name in names:
        command = name.split("|")[0]
        info = client.execute_command("COMMAND", "INFO", command)[command]
        if "write" in info["flags"]:
            found.append(name)
    return found
