"""The key census over mixed types: JSON strings, 10-field hashes, 10-member sorted sets.

Starts its own redis-server (SLOWLOG at 10 ms), writes the keyspace (a third of each type, all
with TTLs), writes the contract as a TOML file, then in one run:
  1. `redis-cli --memkeys` over the whole keyspace (the reference, timed);
  2. `redis-preflight --full-scan --contract mixed.toml -k test_keys` in a child process: keys/s
     from its census line, peak RSS from wait4();
  3. SLOWLOG: every command of 10 ms or more during step 2.

    PYTHONPATH=src python3 benchmarks/census_mixed.py --keys 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import hiredis
import redis

sys.path.insert(0, str(Path(__file__).parent))
from census import CENSUS_LINE, SLOW_US, slow_commands  # noqa: E402

from redis_preflight.ephemeral.local_server import LocalRedis  # noqa: E402

CONTRACT = """
[[patterns]]
name = "session"
prefix = "session:"
ttl = { max = "1d" }
schema = { type = "object", required = ["user_id", "cart_items", "premium"], properties = { \
user_id = { type = "string", format = "uuid" }, cart_items = { type = "integer", minimum = 0 }, \
premium = { type = "boolean" } } }

[[patterns]]
name = "profile"
prefix = "profile:"
type = "hash"
ttl = { max = "7d" }
[patterns.fields]
name = "string"
email = "string"
age = "integer"
balance = "number"
country = "string"
plan = "string"
logins = "integer"
created = "integer"
referrer = { type = "string", required = false }
verified = "boolean"
visits = "integer"

[[patterns]]
name = "board"
prefix = "board:"
type = "zset"
members = { min = 1, max = 100 }
scores = { min = 0, max = 1000000 }
ttl = { max = "1d" }
"""


def commands(size: int, seed: int = 3) -> Iterator[bytes]:
    """The write commands of `size` keys: a third each of strings, hashes and sorted sets."""
    rng = random.Random(seed)  # noqa: S311 - a repeatable keyspace
    for n in range(size):
        ttl = rng.randint(3600, 86400)
        if n % 3 == 0:
            value = {"user_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "cart_items": n % 7}
            value["premium"] = n % 5 == 0
            yield hiredis.pack_command((b"SET", b"session:%d" % n, json.dumps(value), b"EX", ttl))
            continue
        key = (b"profile:%d" if n % 3 == 1 else b"board:%d") % n
        if n % 3 == 1:
            fields = {"name": f"user {n}", "email": f"u{n}@example.com", "age": 20 + n % 60, "balance": "1.5"}
            fields |= {"country": "ES", "plan": "pro", "logins": n % 100, "created": 1700000000 + n}
            fields |= {"verified": "true", "visits": n % 1000}
            yield hiredis.pack_command((b"HSET", key, *(str(x) for kv in fields.items() for x in kv)))
        else:
            members = [x for m in range(10) for x in (rng.randint(0, 999_999), f"user:{rng.getrandbits(32)}")]
            yield hiredis.pack_command((b"ZADD", key, *members))
        yield hiredis.pack_command((b"EXPIRE", key, ttl))


def load(port: int, size: int, batch: int = 5000) -> None:
    reader = hiredis.Reader()
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        chunk: list[bytes] = []
        for command in commands(size):
            chunk.append(command)
            if len(chunk) >= batch:
                _send(sock, reader, chunk)
        _send(sock, reader, chunk)


def _send(sock: socket.socket, reader: hiredis.Reader, chunk: list[bytes]) -> None:
    expected = len(chunk)
    sock.sendall(b"".join(chunk))
    chunk.clear()
    while expected:
        reply = reader.gets()
        if reply is False:
            reader.feed(sock.recv(1 << 16))
        elif isinstance(reply, hiredis.ReplyError):
            raise reply
        else:
            expected -= 1


def server_cpu(client: redis.Redis) -> float:
    cpu = client.info("cpu")
    return float(cpu["used_cpu_user"] + cpu["used_cpu_sys"])


def memkeys(port: int) -> tuple[float, float]:
    """(wall seconds, client CPU seconds) of `redis-cli --memkeys` over the whole keyspace."""
    started = time.perf_counter()
    child = subprocess.Popen(["redis-cli", "-p", str(port), "--memkeys"], stdout=subprocess.DEVNULL)
    _, _, usage = os.wait4(child.pid, 0)
    return time.perf_counter() - started, usage.ru_utime + usage.ru_stime


def verifier(port: int, contract: Path, report_dir: Path) -> tuple[str, int, float, int, list[str], float]:
    """(census line, keys scanned, keys/s, peak RSS bytes, failed checks, CPU seconds) of the
    console script (its CPU includes pytest's start-up, about a second)."""
    command = [sys.executable, "-m", "redis_preflight.cli", "--redis-url", f"redis://127.0.0.1:{port}/0"]
    command += [
        "--contract",
        str(contract),
        "--full-scan",
        "-k",
        "test_keys",
        "--report-dir",
        str(report_dir),
    ]
    child = subprocess.Popen(
        [*command, "-q", "-p", "no:randomly"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, _, usage = os.wait4(child.pid, 0)
    summary = json.loads((report_dir / "summary.json").read_text())
    line = next(c["message"] for c in summary["checks"] if c["id"].endswith("::test_census"))
    failed = [c["id"].split("::")[-1] for c in summary["checks"] if c["outcome"] == "failed"]
    match = CENSUS_LINE.search(line)
    if match is None:
        raise SystemExit(f"no census line in summary.json: {line}")
    return (
        line,
        int(match[1].replace(",", "")),
        float(match[4].replace(",", "")),
        usage.ru_maxrss * 1024,
        failed,
        usage.ru_utime + usage.ru_stime,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="census-mixed-") as tmp:
        server = LocalRedis(
            Path(tmp) / "redis", [f"slowlog-log-slower-than {SLOW_US}", "slowlog-max-len 1024"]
        )
        server.start()
        try:
            run(server.port, args.keys, Path(tmp))
        finally:
            server.stop()


def run(port: int, size: int, tmp: Path) -> None:
    client = redis.Redis(port=port, protocol=2, socket_timeout=60)
    started = time.perf_counter()
    load(port, size)
    print(f"keyspace: {client.dbsize():,} keys written in {time.perf_counter() - started:.1f} s")
    contract = tmp / "mixed.toml"
    contract.write_text(CONTRACT)
    load_before = os.getloadavg()[0]
    server_before = server_cpu(client)
    cli_s, cli_cpu = memkeys(port)
    cli_server = server_cpu(client) - server_before
    memkeys_rate = size / cli_s
    client.slowlog_reset()
    server_before = server_cpu(client)
    line, scanned, rate, rss, failed, cpu = verifier(port, contract, tmp / "reports")
    census_server = server_cpu(client) - server_before
    slow = slow_commands(client)
    print(f"census: {line}")
    print(
        f"verifier {scanned:,} keys at {rate:,.0f} keys/s; redis-cli --memkeys {memkeys_rate:,.0f} keys/s "
        f"({cli_s:.1f} s); ratio {rate / memkeys_rate:.2f}; peak RSS {rss / 2**20:.0f} MB; "
        f"SLOWLOG >= 10 ms: {len(slow)} {slow[:3]}; failed checks: {failed or 'none'}; "
        f"load average {load_before:.1f}"
    )
    # CPU per key does not depend on the load: with a core each, the slower side sets the pace.
    print(
        f"CPU per key (us): verifier client {cpu / size * 1e6:.2f}, server {census_server / size * 1e6:.2f}; "
        f"memkeys client {cli_cpu / size * 1e6:.2f}, server {cli_server / size * 1e6:.2f}; "
        f"verifier bound on two free cores: {size / max(cpu, census_server):,.0f} keys/s"
    )


if __name__ == "__main__":
    main()
