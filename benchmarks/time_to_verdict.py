"""Time to verdict: whole-process wall time of `redis-preflight` against four kinds of target.

Run by hand from the repository root (figures go in benchmarks/README.md):

    PYTHONPATH=$PWD/src python3 benchmarks/time_to_verdict.py [--runs 5]

Default timeouts (5 s). Each run is a fresh process: interpreter and pytest start-up, every
check, and the three reports written. Goals: under 3 s for a healthy local server with an
empty keyspace; the connect (or socket) timeout + 2 s for the others.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import fault_servers  # noqa: E402  (the tests' misbehaving peers, reused)

from redis_preflight.ephemeral.local_server import LocalRedis, free_port  # noqa: E402

DEFAULT_TIMEOUT_S = 5.0


@contextmanager
def healthy() -> Iterator[int]:
    with tempfile.TemporaryDirectory() as directory:
        server = LocalRedis(Path(directory)).start()
        try:
            yield server.port
        finally:
            server.stop()


@contextmanager
def refused() -> Iterator[int]:
    yield free_port()


SCENARIOS: list[tuple[str, Callable[[], object], float]] = [
    ("healthy local server, empty keyspace", healthy, 3.0),
    ("refused port", refused, DEFAULT_TIMEOUT_S + 2),
    ("no answer to TCP connect (full backlog)", fault_servers.blackhole, DEFAULT_TIMEOUT_S + 2),
    ("tarpit: accepts, never answers", fault_servers.tarpit, DEFAULT_TIMEOUT_S + 2),
]


def verdict_time(port: int) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as reports:
        command = [sys.executable, "-m", "redis_preflight.cli", "--redis-url", f"redis://127.0.0.1:{port}/0"]
        started = time.perf_counter()
        done = subprocess.run([*command, "--report-dir", reports], capture_output=True, check=False)
        return time.perf_counter() - started, done.returncode


def load() -> str:
    return "load average " + " ".join(f"{figure:.1f}" for figure in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    print(f"{runs} runs each, default timeouts; {load()} ({os.cpu_count()} cores)")
    print(f"{'target':42} {'exit':>4} {'median':>7} {'min':>6} {'max':>6} {'goal':>6}")
    for name, start, goal in SCENARIOS:
        with start() as port:  # type: ignore[attr-defined]
            timed = [verdict_time(port) for _ in range(runs)]
        seconds = [t for t, _ in timed]
        codes = "/".join(sorted({str(code) for _, code in timed}))
        median = statistics.median(seconds)
        print(
            f"{name:42} {codes:>4} {median:6.2f}s {min(seconds):5.2f}s {max(seconds):5.2f}s "
            f"{goal:5.1f}s {'ok' if median < goal else 'OVER'}"
        )
    print(load())


if __name__ == "__main__":
    main()
