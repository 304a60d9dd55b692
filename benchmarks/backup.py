"""Backup and restore at scale: keys/s and peak RSS of `redis-preflight backup` and `restore`.

Starts two redis-servers of its own, fills the first with the keyspace generator (the five
AI Goals Tracker patterns, with TTLs), then runs the real console script in child processes,
reading each one's peak RSS from wait4():
  1. `redis-preflight backup` of server A (SCAN, TYPE, PEXPIRETIME, DUMP, the value);
  2. `redis-preflight restore --allow-write` into the empty server B (validation, RESTORE ...
     ABSTTL, the verification pass: the whole command is timed);
  3. DEBUG DIGEST of A and B, which must be equal.

    PYTHONPATH=src python3 benchmarks/backup.py --keys 1000000 --repeat 1

The machine is shared: run it more than once (--repeat) and read the load average it prints.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis

sys.path.insert(0, str(Path(__file__).parent))
from keyspace import load  # noqa: E402

from redis_preflight.ephemeral.local_server import LocalRedis  # noqa: E402


def timed(*args: str) -> tuple[float, int, str]:
    """(seconds, peak RSS bytes, output) of the console script with these arguments."""
    command = [sys.executable, "-m", "redis_preflight.cli", *args]
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # noqa: S603
    output = child.stdout.read().decode() if child.stdout else ""
    _, status, usage = os.wait4(child.pid, 0)
    if status != 0:
        raise SystemExit(f"{' '.join(args[:1])} exited with status {status >> 8}: {output}")
    return time.perf_counter() - started, usage.ru_maxrss * 1024, output.strip()


def once(keys: int, tmp: Path) -> None:
    source = LocalRedis(tmp / "a", ["enable-debug-command yes"]).start()
    target = LocalRedis(tmp / "b", ["enable-debug-command yes"]).start()
    try:
        load(source.port, keys, 0.01)
        client = redis.Redis(port=source.port)
        count = int(client.dbsize())
        out = tmp / "backup.jsonl"
        seconds, rss, output = timed("backup", "--redis-url", source.url, "--out", str(out))
        print(
            f"backup:  {count:,} keys in {seconds:.2f} s ({count / seconds:,.0f} keys/s), peak RSS "
            f"{rss / 2**20:.0f} MiB, file {out.stat().st_size / 2**20:.0f} MiB\n   {output}"
        )
        seconds, rss, output = timed("restore", str(out), "--redis-url", target.url, "--allow-write")
        print(
            f"restore: {count:,} keys in {seconds:.2f} s ({count / seconds:,.0f} keys/s), peak RSS "
            f"{rss / 2**20:.0f} MiB (validation, RESTORE and verification)\n   {output}"
        )
        digests = [redis.Redis(port=s.port).execute_command("DEBUG", "DIGEST") for s in (source, target)]
        print(f"DEBUG DIGEST equal: {digests[0] == digests[1]} ({digests[0]!r})")
    finally:
        source.stop()
        target.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="backup-bench-") as tmp:
            once(args.keys, Path(tmp))
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
