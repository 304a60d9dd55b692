"""The key census at scale: keys/s with full validation, against `redis-cli --memkeys`, in one run.

Starts its own redis-server (SLOWLOG at 10 ms), fills it with the keyspace generator, then:
  1. `redis-cli --memkeys` over the whole keyspace (the reference, timed);
  2. the verifier itself, `redis-preflight --full-scan -k test_keys`, in a child process whose
     peak RSS is read from wait4(); its census line gives keys/s;
  3. SLOWLOG: every command of 10 ms or more during step 2;
  4. the census in this process, with client and server CPU per key (where the time goes),
     and with --profile the functions that cost most.

    PYTHONPATH=src python3 benchmarks/census.py --keys 1000000 --defect-rate 0.01 --repeat 3

The machine is shared: run it more than once (--repeat) and read the load average it prints.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis

sys.path.insert(0, str(Path(__file__).parent))
from keyspace import load  # noqa: E402

from redis_preflight.contract.goals_tracker import CONTRACT  # noqa: E402
from redis_preflight.ephemeral.local_server import LocalRedis  # noqa: E402
from redis_preflight.probes.keys import take_census  # noqa: E402
from redis_preflight.probes.keys.census import Bounds  # noqa: E402

SLOW_US = 10_000
CENSUS_LINE = re.compile(r"scanned ([\d,]+) keys .* examined ([\d,]+) in ([\d.]+) s \(([\d,]+) keys/s\)")


def memkeys(port: int) -> float:
    """Seconds `redis-cli --memkeys` takes over the whole keyspace."""
    started = time.perf_counter()
    subprocess.run(["redis-cli", "-p", str(port), "--memkeys"], capture_output=True, check=True, timeout=900)
    return time.perf_counter() - started


def verifier(port: int, report_dir: Path) -> tuple[int, float, float, int]:
    """(keys scanned, census seconds, keys/s, peak RSS bytes) of the real console script."""
    command = [sys.executable, "-m", "redis_preflight.cli", "--redis-url", f"redis://127.0.0.1:{port}/0"]
    command += ["--full-scan", "-k", "test_keys", "--report-dir", str(report_dir), "-q", "-p", "no:randomly"]
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(child.pid, 0)
    summary = json.loads((report_dir / "summary.json").read_text())
    line = next(c["message"] for c in summary["checks"] if c["id"].endswith("::test_census"))
    match = CENSUS_LINE.search(line)
    if match is None:
        raise SystemExit(f"no census line in summary.json: {line}")
    scanned, seconds, rate = int(match[1].replace(",", "")), float(match[3]), float(match[4].replace(",", ""))
    return scanned, seconds, rate, usage.ru_maxrss * 1024


def slow_commands(client: redis.Redis) -> list[str]:
    return [
        f"{entry['duration'] / 1000:.1f} ms {entry['command'][:40]!r}"
        for entry in client.slowlog_get(1024)
        if entry["duration"] >= SLOW_US
    ]


def in_process(client: redis.Redis, profile: bool) -> str:
    """The census here: wall time, the client's and the server's CPU per key, and the server's
    time per key in each command (INFO commandstats)."""
    client.config_resetstat()
    before = client.info("cpu")
    profiler = cProfile.Profile() if profile else None
    started, cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    census = take_census([client], CONTRACT, Bounds(full_scan=True))
    if profiler:
        profiler.disable()
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    after = client.info("cpu")
    server = sum(after[k] - before[k] for k in ("used_cpu_user", "used_cpu_sys"))
    n = census.scanned
    if profiler:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)
    commands = client.info("commandstats")
    split = ", ".join(
        f"{name.removeprefix('cmdstat_')} {stats['usec'] / n:.2f}"
        for name, stats in sorted(commands.items(), key=lambda item: -item[1]["usec"])
        if stats["usec"] / n >= 0.01
    )
    return (
        f"in-process census: {n:,} keys in {wall:.2f} s ({n / wall:,.0f} keys/s); "
        f"CPU per key: client {cpu / n * 1e6:.2f} us, server {server / n * 1e6:.2f} us; "
        f"server time per key in each command (us): {split}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--defect-rate", type=float, default=0.01)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="census-bench-") as tmp:
        server = LocalRedis(
            Path(tmp) / "redis", [f"slowlog-log-slower-than {SLOW_US}", "slowlog-max-len 1024"]
        )
        server.start()
        try:
            run(server.port, args, Path(tmp))
        finally:
            server.stop()


def run(port: int, args: argparse.Namespace, tmp: Path) -> None:
    client = redis.Redis(port=port, protocol=2, socket_timeout=60)
    started = time.perf_counter()
    written = load(port, args.keys, args.defect_rate)
    defects = sum(written.values()) - written["valid"]
    print(
        f"keyspace: {client.dbsize():,} keys, {defects:,} defects ({args.defect_rate:.1%}), "
        f"written in {time.perf_counter() - started:.1f} s"
    )
    rates, ratios = [], []
    for attempt in range(1, args.repeat + 1):
        load_before = os.getloadavg()[0]
        cli_s = memkeys(port)
        client.slowlog_reset()
        scanned, seconds, rate, rss = verifier(port, tmp / f"reports-{attempt}")
        slow = slow_commands(client)
        memkeys_rate = client.dbsize() / cli_s
        rates.append(rate)
        ratios.append(rate / memkeys_rate)
        print(
            f"run {attempt}: verifier {scanned:,} keys in {seconds:.2f} s = {rate:,.0f} keys/s; "
            f"redis-cli --memkeys {memkeys_rate:,.0f} keys/s; ratio {rate / memkeys_rate:.2f}; "
            f"peak RSS {rss / 2**20:.0f} MB; SLOWLOG >= 10 ms: {len(slow)} {slow[:3]}; "
            f"load average {load_before:.1f}"
        )
    print(in_process(client, args.profile))
    print(
        f"best {max(rates):,.0f} keys/s, median {statistics.median(rates):,.0f} keys/s; "
        f"ratio to redis-cli --memkeys best {max(ratios):.2f}, median {statistics.median(ratios):.2f}"
    )


if __name__ == "__main__":
    main()
