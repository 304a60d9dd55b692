"""Wall time of a whole verification: fleets of N targets (serial and -n 2) and a 3x1 cluster.

Run by hand from the repository root: `python3 benchmarks/fleet_and_cluster.py [--runs 3]`.
Starts its own redis-server processes on free loopback ports and prints the median of each case.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests")]

from topologies import start_cluster  # noqa: E402

from redis_preflight.ephemeral.local_server import LocalRedis, free_port  # noqa: E402


def verify(urls: list[str], *extra: str) -> float:
    """Seconds for one console-script run, process start to exit."""
    args = [arg for url in urls for arg in ("--redis-url", url)]
    with tempfile.TemporaryDirectory() as reports:
        command = [sys.executable, "-m", "redis_preflight.cli", "--report-dir", reports, *args, *extra]
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, check=False, timeout=300)
        return time.perf_counter() - started


def median(runs: int, urls: list[str], *extra: str) -> float:
    return statistics.median(verify(urls, *extra) for _ in range(runs))


def tarpit() -> tuple[socket.socket, str]:
    """A port that accepts connections and never answers: a stalled server."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    return listener, f"redis://127.0.0.1:{listener.getsockname()[1]}/0"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as scratch:
        base = Path(scratch)
        servers = [LocalRedis(base / f"plain{i}").start() for i in range(6)]
        cluster = start_cluster(base / "cluster")
        try:
            for size in (1, 3, 6):
                urls = [server.url for server in servers[:size]]
                serial, parallel = median(runs, urls), median(runs, urls, "-n", "2")
                print(f"fleet of {size} healthy targets: serial {serial:.2f} s, -n 2 {parallel:.2f} s")
            broken = [servers[0].url, servers[1].url, f"redis://127.0.0.1:{free_port()}/0"]
            print(f"fleet of 3, one refusing: serial {median(runs, broken):.2f} s")
            pits = [tarpit() for _ in range(4)]
            stalled = [url for _, url in pits]
            slow = median(runs, stalled, "--socket-timeout", "2")
            parallel = median(runs, stalled, "--socket-timeout", "2", "-n", "2")
            print(f"fleet of 4 stalled targets (2 s timeout): serial {slow:.2f} s, -n 2 {parallel:.2f} s")
            for listener, _ in pits:
                listener.close()
            print(f"3x1 cluster (6 nodes, per-node checks): serial {median(runs, [cluster.url]):.2f} s")
        finally:
            cluster.stop()
            for server in servers:
                server.stop()


if __name__ == "__main__":
    main()
