"""Generate a keyspace of the five AI Goals Tracker patterns, of any size and defect rate.

Only ever run against a server the benchmark (or a test) started itself:
    python3 benchmarks/keyspace.py --port 6390 --keys 1000000 --defect-rate 0.01
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import socket
import time
import uuid
from collections import Counter
from collections.abc import Iterator

import hiredis

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
NOW = "2026-01-01T00:00:00+00:00"
JWT_HEADER = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=")
PATTERNS = ("user_session", "ws_connections", "goal_state", "blacklist", "rate_limit")
WEIGHTS = (30, 20, 15, 20, 15)
DEFECTS = (
    "wrong_type",
    "not_utf8",
    "invalid_json",
    "missing_field",
    "mistyped_field",
    "no_ttl",
    "ttl_too_long",
    "jwt_outlives_ttl",
    "unmatched",
)


def jwt(exp: int, rng: random.Random) -> bytes:
    payload = base64.urlsafe_b64encode(b'{"sub":"%d","exp":%d}' % (rng.getrandbits(48), exp)).rstrip(b"=")
    signature = base64.urlsafe_b64encode(rng.randbytes(32)).rstrip(b"=")
    return b".".join((JWT_HEADER, payload, signature))


def valid(pattern: str, rng: random.Random) -> tuple[bytes, bytes, int]:
    """(key, value, ttl ms) of a key that keeps the default contract."""
    ident = uuid.UUID(int=rng.getrandbits(128), version=4)
    if pattern == "user_session":
        value = (
            f'{{"connection_id":"ws_conn_{ident.hex[:8]}","current_goal_id":"{ident}",'
            f'"current_task_id":null,"mood_score":0.{rng.randint(0, 9)},"last_activity":"{NOW}"}}'
        )
        return f"user_session:{ident}".encode(), value.encode(), rng.randint(HOUR_MS, 7 * DAY_MS)
    if pattern == "ws_connections":
        value = f'{{"user_id":"{ident}","connected_at":"{NOW}","ip":"10.0.{ident.int % 256}.7"}}'
        return f"ws_connections:ws_conn_{ident.hex}".encode(), value.encode(), rng.randint(60_000, DAY_MS)
    if pattern == "goal_state":
        value = (
            f'{{"goal_id":"{ident}","user_id":"{ident}","current_node":"nodo_4_feedback",'
            f'"state_data":{{"step":{rng.randint(0, 9)}}},"history":["nodo_1","nodo_2"]}}'
        )
        return f"goal_state:{ident}".encode(), value.encode(), rng.randint(HOUR_MS, 3 * DAY_MS)
    if pattern == "blacklist":
        life_s = rng.randint(60, 3600)
        return b"blacklist:" + jwt(int(time.time()) + life_s, rng), b"1", (life_s + 60) * 1000
    return f"rate_limit:{ident}".encode(), str(rng.randint(0, 100)).encode(), rng.randint(1000, HOUR_MS)


def defective(pattern: str, defect: str, rng: random.Random) -> tuple[bytes, bytes | dict[bytes, bytes], int]:
    """A key of `pattern` with one `defect`; a dict value is written as a hash."""
    key, value, ttl = valid(pattern, rng)
    if defect == "wrong_type":
        return key, {b"field": value}, ttl
    if defect == "not_utf8":
        return key, b'{"connection_id":"\xff\xfe"}', ttl
    if defect == "invalid_json":
        return key, value[:-1], ttl
    if defect == "missing_field" and value.startswith(b"{"):
        document = json.loads(value)
        document.pop(next(iter(document)))
        return key, json.dumps(document).encode(), ttl
    if defect == "mistyped_field":
        return key, b'"not an object or number"', ttl
    if defect == "no_ttl":
        return key, value, -1
    if defect == "ttl_too_long":
        return key, value, 400 * DAY_MS
    if defect == "jwt_outlives_ttl":
        return b"blacklist:" + jwt(int(time.time()) + 7200, rng), b"1", 60_000
    if defect == "unmatched":
        return f"tmp:{rng.getrandbits(64):x}".encode(), value, ttl
    return key, value, ttl


def keyspace(size: int, defect_rate: float, seed: int = 1) -> Iterator[tuple[str, bytes, object, int]]:
    """(defect or "", key, value, ttl ms or -1) for `size` keys."""
    rng = random.Random(seed)
    for pattern in rng.choices(PATTERNS, WEIGHTS, k=size):
        if rng.random() < defect_rate:
            defect = rng.choice(DEFECTS)
            yield (defect, *defective(pattern, defect, rng))
        else:
            yield ("", *valid(pattern, rng))


def pack(key: bytes, value: object, ttl_ms: int) -> list[bytes]:
    """The commands that write one key: SET (with PX), or HSET then PEXPIRE."""
    if isinstance(value, dict):
        fields = [item for pair in value.items() for item in pair]
        expire = [hiredis.pack_command((b"PEXPIRE", key, ttl_ms))] if ttl_ms > 0 else []
        return [hiredis.pack_command((b"HSET", key, *fields)), *expire]
    if ttl_ms > 0:
        return [hiredis.pack_command((b"SET", key, value, b"PX", ttl_ms))]
    return [hiredis.pack_command((b"SET", key, value))]


def load(port: int, size: int, defect_rate: float, seed: int = 1, batch: int = 5000) -> Counter[str]:
    """Write the keyspace to 127.0.0.1:port in pipelined batches; returns the defects written."""
    written: Counter[str] = Counter()
    reader = hiredis.Reader()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        chunk: list[bytes] = []
        for defect, key, value, ttl in keyspace(size, defect_rate, seed):
            written[defect or "valid"] += 1
            chunk += pack(key, value, ttl)
            if len(chunk) >= batch:
                _send(sock, reader, chunk)
        _send(sock, reader, chunk)
    return written


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--keys", type=int, default=100_000)
    parser.add_argument("--defect-rate", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    started = time.perf_counter()
    written = load(args.port, args.keys, args.defect_rate, args.seed)
    print(f"wrote {args.keys:,} keys in {time.perf_counter() - started:.1f} s: {dict(written)}")


if __name__ == "__main__":
    main()
