"""What managed-Redis support costs: the commands table, a renamed command, a cloud token.

Run by hand: `PYTHONPATH=src python3 benchmarks/managed.py` (the aws figure needs botocore).
Starts its own redis-server (CONFIG renamed) on a free loopback port and prints figures.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

import redis
from redis.connection import HiredisRespSerializer

from redis_preflight.config.renamed import CommandNames, parse_renames
from redis_preflight.config.settings import PreflightSettings
from redis_preflight.config.target import parse_target
from redis_preflight.ephemeral.local_server import LocalRedis
from redis_preflight.probes.capabilities import learn
from redis_preflight.probes.client import RenamingPacker, open_client

ROUNDS = 200
PACKS = 100_000


def median_ms(action, rounds: int = ROUNDS) -> float:
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        server = LocalRedis(Path(directory) / "redis", ["rename-command CONFIG cfg-secret"]).start()
        try:
            target = parse_target(server.url)
            settings = PreflightSettings(renamed_command=["CONFIG=cfg-secret"])  # type: ignore[call-arg]
            client = open_client(target, settings)
            table_ms = median_ms(lambda: learn(client, target))
            print(f"commands table (8 commands, one round trip): {table_ms:.2f} ms median")
            config_ms = median_ms(lambda: client.config_get("maxmemory"))
            print(f"CONFIG GET under its new name: {config_ms:.3f} ms median")
            plain = redis.Redis(port=server.port, protocol=2)
            renamed_ms, plain_ms = median_ms(client.ping), median_ms(plain.ping)
            print(f"PING, renaming client: {renamed_ms:.3f} ms; plain: {plain_ms:.3f} ms")
        finally:
            server.stop()
    renaming = RenamingPacker(CommandNames.of(parse_renames(["CONFIG=cfg-secret"])))
    for name, packer in (("hiredis packer", HiredisRespSerializer()), ("renaming packer", renaming)):
        started = time.perf_counter()
        for _ in range(PACKS):
            packer.pack("GET", "user_session:1")
        print(f"{name}: {(time.perf_counter() - started) / PACKS * 1e9:.0f} ns per GET packed")
    try:
        from redis_preflight.providers import aws
    except ImportError:
        print("aws token: botocore not installed")
        return
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "AKIDBENCHMARK")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "benchmark-secret")
    source = aws.source(username="app-user", region="eu-west-1", cache_name="my-cache")
    fetch = source._fetch  # noqa: SLF001 - timing the signing alone, without the cache
    print(f"aws token (SigV4 presign): {median_ms(fetch, 50):.2f} ms median")


if __name__ == "__main__":
    main()
