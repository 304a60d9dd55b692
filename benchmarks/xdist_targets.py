"""Wall time of `-n 2` against serial: one target (where -n is now ignored) and fleets of 2 and 4.

Run by hand from the repository root: `python3 benchmarks/xdist_targets.py [--runs 3]`.
Starts its own redis-server processes on free loopback ports; prints the median of each case,
and the load average, since worker start-up dominates on a busy machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src")]

from redis_preflight.ephemeral.local_server import LocalRedis  # noqa: E402


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as scratch:
        servers = [LocalRedis(Path(scratch) / f"plain{i}").start() for i in range(4)]
        try:
            print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
            for size in (1, 2, 4):
                urls = [server.url for server in servers[:size]]
                serial, parallel = median(runs, urls), median(runs, urls, "-n", "2")
                print(f"{size} target(s): serial {serial:.2f} s, -n 2 {parallel:.2f} s")
            print(f"load average after: {os.getloadavg()[0]:.1f}")
        finally:
            for server in servers:
                server.stop()


if __name__ == "__main__":
    main()
