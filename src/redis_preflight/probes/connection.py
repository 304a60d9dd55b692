"""Can the verifier reach the target: DNS, TCP, the Redis handshake, and who answers."""

from __future__ import annotations

import socket
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import ExitStack
from dataclasses import dataclass, replace
from typing import Any

import redis

from redis_preflight.config.settings import PreflightSettings
from redis_preflight.config.target import Target
from redis_preflight.errors import AUTH_FAULTS, TLS_FAULTS, Diagnosis, Fault, classify, db_out_of_range
from redis_preflight.probes.auth import Authentication, authenticate
from redis_preflight.probes.bounds import deadline
from redis_preflight.probes.client import client_options
from redis_preflight.probes.tls import TlsSession, explain, handshake


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
    """AUTH and SELECT done, PING answered; `elapsed_ms` is one round trip on the open connection.

    `refused_writes`: the server answers reads but refuses writes and PING (MISCONF).
    """

    pong: bool
    elapsed_ms: float
    setup_ms: float  # the client's connect (TCP, TLS, AUTH, SELECT) and first PING together
    refused_writes: Diagnosis | None = None


# The walk's stages, in order; "select" is the db index, checked with the PING.
STAGES = ("dns", "connect", "tls", "auth", "command", "select")


@dataclass(frozen=True)
class Reachability:
    """How far the verifier got towards the server, each stage timed, and why it stopped if it did."""

    resolution: Resolution | None = None
    tcp: TcpConnect | None = None
    tls: TlsSession | None = None
    auth: Authentication | None = None
    handshake: Handshake | None = None
    failure: Diagnosis | None = None
    failed_stage: str | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None

    @property
    def writes_refused(self) -> bool:
        """Reads answer but writes and PING are refused (MISCONF after a failed save)."""
        return self.handshake is not None and self.handshake.refused_writes is not None

    def stopped_before(self, stage: str) -> bool:
        """Did the walk fail at a stage before `stage`, so that `stage` cannot be judged?"""
        return self.failed_stage is not None and STAGES.index(self.failed_stage) < STAGES.index(stage)

    def setup(self, connect_timeout: float, socket_timeout: float) -> ConnectionSetup:
        """Connection set-up per stage, TCP, TLS (rediss:// only) and AUTH, each with its timeout.

        As in redis-py: the connect timeout bounds TCP, the socket timeout the TLS handshake and AUTH.
        """
        first_reply = "AUTH" if self.auth is None or self.auth.user else "first PING (no AUTH)"
        stages: list[tuple[str, TcpConnect | TlsSession | Authentication | None, float]] = [
            ("TCP", self.tcp, connect_timeout),
            ("TLS", self.tls, socket_timeout),
            (first_reply, self.auth, socket_timeout),
        ]
        return ConnectionSetup(
            tuple(SetupStage(name, stage.elapsed_ms, timeout) for name, stage, timeout in stages if stage)
        )


@dataclass(frozen=True)
class SetupStage:
    name: str
    elapsed_ms: float
    timeout_s: float

    @property
    def near_timeout(self) -> bool:
        """Over half the timeout that bounds it: a slower moment would time out."""
        return self.elapsed_ms > self.timeout_s * 1000 / 2


@dataclass(frozen=True)
class ConnectionSetup:
    """What every new connection costs, stage by stage."""

    stages: tuple[SetupStage, ...]

    @property
    def near_timeouts(self) -> tuple[SetupStage, ...]:
        return tuple(stage for stage in self.stages if stage.near_timeout)

    def __str__(self) -> str:
        shown = ", ".join(f"{stage.name} {stage.elapsed_ms:.2f} ms" for stage in self.stages)
        return f"{shown}; total {sum(stage.elapsed_ms for stage in self.stages):.2f} ms"


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


def tcp_connect(target: Target, timeout: float) -> tuple[socket.socket, TcpConnect]:
    """Open one TCP (or unix) connection, timed; the caller closes it."""
    started = time.perf_counter()
    if target.is_unix:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(target.socket_path)
        except OSError:
            sock.close()
            raise
        peer = target.socket_path
    else:
        sock = socket.create_connection((target.host, target.port), timeout=timeout)
        host, port = sock.getpeername()[:2]
        peer = f"{host}:{port}"
    return sock, TcpConnect(peer, (time.perf_counter() - started) * 1000)


def ping(client: redis.Redis, target: Target) -> Handshake:
    """Connect (TLS, AUTH, SELECT) with a first PING, then time a second one alone: the round trip
    without the client's own set-up, which test_setup_time and test_tls_setup report."""
    started = time.perf_counter()
    try:
        client.ping()
    except redis.ResponseError as e:
        diagnosis = classify(e, target)
        if diagnosis.fault is not Fault.MISCONF:
            raise
        # After a failed save Redis refuses PING and writes, but reads still answer.
        setup_ms, started = (time.perf_counter() - started) * 1000, time.perf_counter()
        client.echo("redis-preflight")
        return Handshake(False, (time.perf_counter() - started) * 1000, setup_ms, diagnosis)
    setup_ms, started = (time.perf_counter() - started) * 1000, time.perf_counter()
    pong = bool(client.ping())
    return Handshake(pong, (time.perf_counter() - started) * 1000, setup_ms)


def reach(target: Target, client: redis.Redis, settings: PreflightSettings) -> Reachability:
    """Walk the stages in order, each timed, and stop at the first failure, classified.

    TCP, TLS and AUTH run on one connection of the walk's own, so each is timed apart; then
    the run's client does it all again and PINGs.
    """
    found: dict[str, Any] = {}
    stage = "dns"
    try:
        if not target.is_unix:
            found["resolution"] = resolve(target, settings.connect_timeout)
        stage = "connect"
        with ExitStack() as opened:
            sock, found["tcp"] = tcp_connect(target, settings.connect_timeout)
            opened.enter_context(sock)
            if target.tls:
                stage = "tls"
                sock, found["tls"] = handshake(sock, target, settings)  # under its own deadline
                opened.enter_context(sock)
            stage = "auth"
            # AUTH reads the raw socket: a deadline for the whole reply, not a timeout per read.
            with deadline(sock, settings.socket_timeout):
                found["auth"] = authenticate(sock, target, settings)
        stage = "command"
        found["handshake"] = ping(client, target)
    except (OSError, redis.RedisError) as e:
        diagnosis = classify(explain(e, target, settings, stage), target, stage=stage)
        if diagnosis.fault is Fault.DB_RANGE:
            diagnosis = db_out_of_range(target, databases(target, settings))
        return Reachability(**found, failure=diagnosis, failed_stage=_stage_of(diagnosis, target, stage))
    return Reachability(**found)


def databases(target: Target, settings: PreflightSettings) -> int | None:
    """The server's `databases` setting, asked on db 0; None where CONFIG GET is not allowed."""
    client = redis.Redis(**client_options(replace(target, db=0), settings))
    try:
        found: Any = client.config_get("databases")
        return int(found["databases"])
    except (OSError, redis.RedisError, KeyError, ValueError):
        return None
    finally:
        client.close()


def _stage_of(diagnosis: Diagnosis, target: Target, stage: str) -> str:
    """The stage whose check reports a failure: a missing client certificate shows at AUTH,
    a wrong password only when the client PINGs, but each belongs to its own stage."""
    if stage in ("dns", "connect", "tls"):
        return stage
    if diagnosis.fault in AUTH_FAULTS:
        return "auth"
    if diagnosis.fault in (Fault.DB_RANGE, Fault.CLUSTER_DB):
        return "select"
    return "tls" if target.tls and diagnosis.fault in TLS_FAULTS else "command"


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
