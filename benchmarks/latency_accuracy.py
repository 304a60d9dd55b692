"""Latency accuracy: the verifier's p50 against `redis-cli --latency` on the same server, same run.

Run by hand from the repository root (figures go in benchmarks/README.md):

    PYTHONPATH=$PWD/src python3 benchmarks/latency_accuracy.py [--rounds 7]

Each round runs `redis-cli --latency -i 2` (not on a TTY it samples for 2 s, prints
"min max avg samples" and exits), then the real console script's latency check, alternately,
against one throwaway redis-server on loopback. redis-cli 7 times each PING in whole
milliseconds, so its min/max read 0 or 1 on loopback; its avg is still a fair estimate of the
mean, since a PING of L ms crosses a millisecond tick with probability L. Goal: the ratio of
the verifier's p50 to redis-cli's avg within 1.5x either way.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from redis_preflight.ephemeral.local_server import LocalRedis

P50 = re.compile(r"p50 ([\d.]+) ms")


def redis_cli_avg(port: int) -> float:
    done = subprocess.run(
        ["redis-cli", "-p", str(port), "--latency", "-i", "2"], capture_output=True, text=True, check=True
    )
    return float(done.stdout.split()[2])


def verifier_p50(url: str, reports: Path) -> float:
    command = [sys.executable, "-m", "redis_preflight.cli", "--redis-url", url, "--report-dir", str(reports)]
    subprocess.run([*command, "-k", "test_round_trip_latency"], capture_output=True, check=False)
    checks = json.loads((reports / "summary.json").read_text())["checks"]
    message = next(c["message"] for c in checks if c["id"].endswith("::test_round_trip_latency"))
    found = P50.search(message)
    if found is None:
        raise SystemExit(f"no p50 in the latency check's message: {message}")
    return float(found.group(1))


def load() -> str:
    return "load average " + " ".join(f"{figure:.1f}" for figure in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    rounds = parser.parse_args().rounds
    print(f"{rounds} rounds; {load()} ({os.cpu_count()} cores)")
    with tempfile.TemporaryDirectory() as directory:
        server = LocalRedis(Path(directory)).start()
        try:
            pairs = [
                (redis_cli_avg(server.port), verifier_p50(server.url, Path(directory) / "r"))
                for _ in range(rounds)
            ]
        finally:
            server.stop()
    print(f"{'round':>5} {'redis-cli avg':>14} {'verifier p50':>13} {'ratio':>6}")
    for number, (cli, ours) in enumerate(pairs, 1):
        print(f"{number:>5} {cli:>11.2f} ms {ours:>10.2f} ms {ours / cli:>6.2f}")
    cli_median = statistics.median(cli for cli, _ in pairs)
    ours_median = statistics.median(ours for _, ours in pairs)
    ratio = ours_median / cli_median
    verdict = "ok" if 1 / 1.5 <= ratio <= 1.5 else "OUTSIDE 1.5x"
    print(f"{'median':>5} {cli_median:>11.2f} ms {ours_median:>10.2f} ms {ratio:>6.2f}")
    print(f"goal: the ratio within 1.5x either way: {verdict}; {load()}")


if __name__ == "__main__":
    main()
