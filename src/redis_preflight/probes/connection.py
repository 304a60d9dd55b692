"""Can the verifier reach the target: DNS, TCP, the Redis handshake, and who answers."""

from __future__ import annotations

import socket
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

import redis

from redis_preflight.errors import Diagnosis, Fault, classify
from redis_preflight.target import Target


@dataclass(frozen=True)
class Resolution:
    addresses: tuple[str, ...]
    elapsed_ms: float


@dataclass(frozen=True)
class TcpConnect:
    peer: str
    elapsed_ms: float


@dataclass(frozen=True)
class Handshake:
    """AUTH and SELECT done, PING answered."""

    pong: bool
    elapsed_ms: float


@dataclass(frozen=True)
class Reachability:
    """How far the verifier got towards the server, and why it stopped if it did."""

    resolution: Resolution | None = None
    tcp: TcpConnect | None = None
    handshake: Handshake | None = None
    failure: Diagnosis | None = None
    failed_stage: str | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None


def resolve(target: Target, timeout: float) -> Resolution:
    started = time.perf_counter()
    addresses = lookup(target.host, target.port, timeout)
    return Resolution(addresses, (time.perf_counter() - started) * 1000)


def lookup(host: str, port: int, timeout: float) -> tuple[str, ...]:
    """getaddrinfo has no timeout of its own, so it runs in a thread we stop waiting for."""
    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        infos = future.result(timeout=timeout)
    except FutureTimeout as e:
        raise socket.gaierror(f"DNS lookup of {host!r} took over {timeout} s") from e
    finally:
        pool.shutdown(wait=False)
    return tuple(dict.fromkeys(str(info[4][0]) for info in infos))


def tcp_connect(target: Target, timeout: float) -> TcpConnect:
    """Open and close one TCP (or unix) connection, timed."""
    started = time.perf_counter()
    if target.is_unix:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(target.socket_path)
    else:
        with socket.create_connection((target.host, target.port), timeout=timeout) as sock:
            target_peer = sock.getpeername()
    peer = target.socket_path if target.is_unix else f"{target_peer[0]}:{target_peer[1]}"
    return TcpConnect(peer, (time.perf_counter() - started) * 1000)


def ping(client: redis.Redis) -> Handshake:
    """Connect (TLS, AUTH, SELECT) and PING, timed together."""
    started = time.perf_counter()
    pong = bool(client.ping())
    return Handshake(pong, (time.perf_counter() - started) * 1000)


def reach(target: Target, client: redis.Redis, connect_timeout: float) -> Reachability:
    """Walk the stages in order and stop at the first failure, classified."""
    resolution = tcp = None
    stage = "dns"
    try:
        if not target.is_unix:
            resolution = resolve(target, connect_timeout)
        stage = "connect"
        tcp = tcp_connect(target, connect_timeout)
        stage = "tls" if target.tls else "command"
        handshake = ping(client)
    except (OSError, redis.RedisError) as e:
        # A TLS handshake timeout reads like a read timeout unless we know the stage.
        diagnosis = classify(e, target, stage=stage)
        if diagnosis.fault in (Fault.DB_RANGE, Fault.CLUSTER_DB):
            stage = "select"
        return Reachability(resolution, tcp, None, diagnosis, stage)
    return Reachability(resolution, tcp, handshake)


# What INFO says on managed services that reveal themselves (os or version lines).
PROVIDER_HINTS = (
    ("Amazon ElastiCache", "AWS ElastiCache"),
    ("Amazon MemoryDB", "AWS MemoryDB"),
    ("Redis Enterprise", "Redis Cloud / Redis Enterprise"),
    ("Azure", "Azure Cache for Redis"),
    ("Upstash", "Upstash"),
)


@dataclass(frozen=True)
class ServerIdentity:
    version: str
    mode: str
    role: str
    os: str
    provider: str | None

    def __str__(self) -> str:
        managed = f", {self.provider}" if self.provider else ""
        return f"redis {self.version}, {self.mode}, {self.role}{managed} ({self.os})"


def identify(client: redis.Redis) -> ServerIdentity:
    """Version, mode, role, os, and a managed provider where INFO reveals one."""
    return identity_of(client.info())


def identity_of(info: Mapping[str, Any]) -> ServerIdentity:
    """The identity in an INFO reply already taken (the server area's one snapshot per run)."""
    text = " ".join(str(info.get(k, "")) for k in ("os", "redis_version", "server_name"))
    provider = next((name for hint, name in PROVIDER_HINTS if hint in text), None)
    if provider is None and "rlec_version" in info:
        provider = "Redis Cloud / Redis Enterprise"
    role = str(info.get("role", "unknown"))
    return ServerIdentity(
        version=str(info.get("redis_version", "unknown")),
        mode=str(info.get("redis_mode", "standalone")),
        role="primary" if role == "master" else role,
        os=str(info.get("os", "unknown")),
        provider=provider,
    )


@dataclass(frozen=True)
class RoundTrip:
    key: str
    elapsed_ms: float
    matched: bool
    deleted: bool


def write_round_trip(client: redis.Redis, key: str, ttl_s: int = 30) -> RoundTrip:
    """The seed's set/get, on a unique key with a TTL, deleted afterwards (--allow-write)."""
    value = b"redis-preflight probe"
    started = time.perf_counter()
    try:
        client.set(key, value, ex=ttl_s)
        matched = client.get(key) == value
    finally:
        deleted = bool(client.delete(key))
    return RoundTrip(key, (time.perf_counter() - started) * 1000, matched, deleted)
