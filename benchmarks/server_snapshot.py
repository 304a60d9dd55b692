"""How long the server area costs: one snapshot (INFO, pipelined CONFIG GET, SLOWLOG GET 10).

Run by hand: `PYTHONPATH=src python3 benchmarks/server_snapshot.py`. Starts its own
redis-server on a free loopback port, seeded with the sample keyspace, and prints figures.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis

from redis_preflight.config.target import parse_target
from redis_preflight.contract.samples import seed
from redis_preflight.ephemeral.local_server import LocalRedis
from redis_preflight.probes.latency import read_slowlog
from redis_preflight.probes.server import take_snapshot

SNAPSHOTS = 200
RUNS = 5


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        server = LocalRedis(Path(directory) / "redis").start()
        try:
            client = redis.Redis(port=server.port, protocol=2)
            seed(client, users=100)
            target = parse_target(server.url)
            timings = []
            for _ in range(SNAPSHOTS):
                started = time.perf_counter()
                take_snapshot(client, target, read_slowlog(client, target))
                timings.append((time.perf_counter() - started) * 1000)
            timings.sort()
            print(
                f"take_snapshot x{SNAPSHOTS}: median {statistics.median(timings):.2f} ms, "
                f"p95 {timings[int(SNAPSHOTS * 0.95)]:.2f} ms"
            )
            runs = [whole_run(server.url, Path(directory)) for _ in range(RUNS)]
            print(f"whole console-script run x{RUNS}: median {statistics.median(runs):.2f} s")
        finally:
            server.stop()


def whole_run(url: str, directory: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "redis_preflight.cli",
            "--redis-url",
            url,
            "--report-dir",
            str(directory / "r"),
            "-q",
        ],
        capture_output=True,
        check=False,
    )
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
