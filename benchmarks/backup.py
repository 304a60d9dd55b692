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
from dataclasses import dataclass
from pathlib import Path

import redis

sys.path.insert(0, str(Path(__file__).parent))
from keyspace import load  # noqa: E402

from redis_preflight.ephemeral.local_server import LocalRedis  # noqa: E402

HOUR_MS = 3_600_000


@dataclass(frozen=True)
class Timed:
    seconds: float
    rss: int  # peak, bytes
    client_cpu: float  # the console script's user + system seconds
    server_cpu: float  # the redis-server's, from INFO cpu
    output: str

    def line(self, verb: str, keys: int, what: str) -> str:
        # On a shared machine wall time measures the neighbours too; CPU per side does not: with a
        # core each, client and server work in parallel and the busier side sets the pace.
        busy = max(self.client_cpu, self.server_cpu)
        return (
            f"{verb}: {keys:,} keys in {self.seconds:.2f} s ({keys / self.seconds:,.0f} keys/s), peak RSS "
            f"{self.rss / 2**20:.0f} MiB{what}\n   CPU: client {self.client_cpu:.1f} s, server "
            f"{self.server_cpu:.1f} s: {keys / busy:,.0f} keys/s with a core each\n   {self.output}"
        )


def server_cpu(server: LocalRedis) -> float:
    cpu = redis.Redis(port=server.port).info("cpu")
    return float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"])


def timed(server: LocalRedis, *args: str) -> Timed:
    """The console script with these arguments, measured; `server` is the one it works on."""
    command = [sys.executable, "-m", "redis_preflight.cli", *args]
    before = server_cpu(server)
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # noqa: S603
    output = child.stdout.read().decode() if child.stdout else ""
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"{' '.join(args[:1])} exited with status {status >> 8}: {output}")
    cpu = usage.ru_utime + usage.ru_stime
    return Timed(seconds, usage.ru_maxrss * 1024, cpu, server_cpu(server) - before, output.strip())


def lengthen_ttls(client: redis.Redis) -> None:
    """The generator's TTLs are realistic (a rate limit lives a minute): an hour more each, so that
    no key expires during the run and the two digests can be compared."""
    cursor = 0
    while True:
        cursor, names = client.scan(cursor, count=10_000)
        with client.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.pttl(name)
            ttls = pipe.execute()
            for name, ttl in zip(names, ttls, strict=True):
                if ttl > 0:
                    pipe.pexpire(name, ttl + HOUR_MS)
            pipe.execute()
        if cursor == 0:
            return


def once(keys: int, tmp: Path) -> None:
    source = LocalRedis(tmp / "a", ["enable-debug-command yes"]).start()
    target = LocalRedis(tmp / "b", ["enable-debug-command yes"]).start()
    try:
        load(source.port, keys, 0.01)
        client = redis.Redis(port=source.port)
        lengthen_ttls(client)
        count = int(client.dbsize())
        out = tmp / "backup.jsonl"
        backup = timed(source, "backup", "--redis-url", source.url, "--out", str(out))
        print(backup.line("backup", count, f", file {out.stat().st_size / 2**20:.0f} MiB"))
        restore = timed(target, "restore", str(out), "--redis-url", target.url, "--allow-write")
        print(restore.line("restore", count, " (validation, RESTORE and verification)"))
        digests = [
            redis.Redis(port=s.port, socket_timeout=600).execute_command("DEBUG", "DIGEST")
            for s in (source, target)
        ]
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
