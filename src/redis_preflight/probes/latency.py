"""Latency as a client sees it (a PING burst), and the server's own record of slow commands."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import redis

from redis_preflight.config.target import Target
from redis_preflight.errors import Diagnosis, classify

# Back-to-back PINGs measure a hot loop no application sees; redis-cli --latency pauses 10 ms.
# 2 ms keeps 100 PINGs near a quarter of a second; it measured closest to redis-cli (benchmarks/README.md).
PAUSE_S = 0.002
# SLOWLOG keeps entries until overwritten: only the last hour's say something about now.
RECENT_S = 3600.0
SLOWLOG_ENTRIES = 10
MASK = "***"
ARG_CHARS = 32
ARGS_SHOWN = 5
# Commands whose second word names what they do (ACL SETUSER, CONFIG SET, ...).
CONTAINERS = frozenset(
    "ACL CLIENT CLUSTER COMMAND CONFIG DEBUG FUNCTION LATENCY MEMORY MODULE OBJECT PUBSUB SCRIPT "
    "SENTINEL SLOWLOG XGROUP XINFO".split()
)


def ms(value: float) -> str:
    """A duration in ms, as precise as it is worth reading."""
    for below, decimals in ((0.1, 3), (10, 2), (100, 1)):
        if value < below:
            return f"{value:.{decimals}f}"
    return f"{value:.0f}"


@dataclass(frozen=True)
class LatencySample:
    """Round-trip times of one PING burst, in ms, in the order taken."""

    samples_ms: tuple[float, ...]
    elapsed_s: float

    def percentile(self, q: float) -> float:
        """Nearest rank: a value that was actually measured."""
        ordered = sorted(self.samples_ms)
        return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]

    @property
    def p50_ms(self) -> float:
        return self.percentile(50)

    @property
    def p99_ms(self) -> float:
        return self.percentile(99)

    def figures(self) -> str:
        """`min 0.05 ms, p50 0.21 ms, ... over 100 PINGs`: the line CI logs show."""
        marks = [("min", 0.0), ("p50", 50.0), ("p95", 95.0), ("p99", 99.0), ("max", 100.0)]
        shown = ", ".join(f"{name} {ms(self.percentile(q))} ms" for name, q in marks)
        return f"{shown} over {len(self.samples_ms)} PINGs in {self.elapsed_s:.2f} s"


def sample_latency(
    client: redis.Redis, samples: int, window_s: float, command: tuple[str, ...] = ("PING",)
) -> LatencySample:
    """PING one at a time, like redis-cli --latency, until `samples` or `window_s`, whichever first.

    Each PING is sent and read on the run's connection itself: redis-py's per-command work (pool,
    retry, callbacks) costs about 0.08 ms here, as much as a loopback round trip. A server that
    refuses PING (MISCONF) is timed with `command` ECHO instead.
    """
    taken: list[float] = []
    connection = client.connection_pool.get_connection()
    started = time.perf_counter()
    try:
        while len(taken) < samples and time.perf_counter() - started < window_s:
            sent = time.perf_counter()
            connection.send_command(*command)  # type: ignore[no-untyped-call]
            connection.read_response()
            taken.append((time.perf_counter() - sent) * 1000)
            time.sleep(PAUSE_S)
    except (redis.ConnectionError, redis.TimeoutError):
        # A reply still in flight must not be read as the next command's.
        connection.disconnect()  # type: ignore[no-untyped-call]
        raise
    finally:
        client.connection_pool.release(connection)
    return LatencySample(tuple(taken), time.perf_counter() - started)


def sample_fleet_latency(
    clients: Sequence[redis.Redis], samples: int, window_s: float
) -> list[LatencySample | BaseException]:
    """The PING bursts of several targets, interleaved on one thread.

    Each target's PINGs are still PAUSE_S apart and each round trip is timed alone, as in
    `sample_latency`; but one target's pause is spent on the others' PINGs, so 16 targets take
    about as long as one. A target that fails gets its exception instead of a sample.
    """
    bursts: list[_Burst | BaseException] = []
    for client in clients:
        try:
            bursts.append(_Burst(client))
        except (redis.ConnectionError, redis.TimeoutError) as e:
            bursts.append(e)
    started = time.perf_counter()
    active = [burst for burst in bursts if isinstance(burst, _Burst)]
    while active and time.perf_counter() - started < window_s:
        due = [burst for burst in active if burst.next_at <= time.perf_counter()]
        if not due:
            time.sleep(max(0.0, min(burst.next_at for burst in active) - time.perf_counter()))
        for burst in due:
            burst.ping()
        active = [burst for burst in active if burst.failure is None and len(burst.taken) < samples]
    return [burst if isinstance(burst, BaseException) else burst.close(started) for burst in bursts]


class _Burst:
    """One target's share of an interleaved burst, on the run's connection itself."""

    def __init__(self, client: redis.Redis) -> None:
        self.pool = client.connection_pool
        self.connection = self.pool.get_connection()
        self.taken: list[float] = []
        self.next_at = 0.0
        self.failure: BaseException | None = None
        self.last_at = 0.0

    def ping(self) -> None:
        sent = time.perf_counter()
        try:
            self.connection.send_command("PING")  # type: ignore[no-untyped-call]
            self.connection.read_response()
        except (redis.ConnectionError, redis.TimeoutError) as e:
            # A reply still in flight must not be read as the next command's.
            self.connection.disconnect()  # type: ignore[no-untyped-call]
            self.failure = e
            return
        self.last_at = time.perf_counter()
        self.taken.append((self.last_at - sent) * 1000)
        self.next_at = self.last_at + PAUSE_S

    def close(self, started: float) -> LatencySample | BaseException:
        self.pool.release(self.connection)
        if self.failure is not None:
            return self.failure
        return LatencySample(tuple(self.taken), max(self.last_at - started, 0.0) + PAUSE_S)


@dataclass(frozen=True)
class SlowCommand:
    """One SLOWLOG entry, safe to show: secrets masked, arguments truncated."""

    started: float
    duration_ms: float
    command: str
    arguments: tuple[str, ...]  # masked, at most ARGS_SHOWN and a "... (+N more)"
    argument_count: int  # how many the command had, shown or not
    client: str

    def age_s(self, now: float) -> float:
        return max(0.0, now - self.started)

    def __str__(self) -> str:
        shown = f" {' '.join(self.arguments)}" if self.arguments else ""
        return f"{self.command}{shown} {ms(self.duration_ms)} ms"


@dataclass(frozen=True)
class SlowLog:
    """SLOWLOG GET's entries, newest first, or why the server would not show them."""

    entries: tuple[SlowCommand, ...] = ()
    read_at: float = 0.0
    refused: Diagnosis | None = None

    def recent_over(self, threshold_ms: float) -> tuple[SlowCommand, ...]:
        return tuple(
            entry
            for entry in self.entries
            if entry.duration_ms > threshold_ms and entry.age_s(self.read_at) <= RECENT_S
        )

    def __str__(self) -> str:
        if self.refused is not None:
            return f"SLOWLOG GET not available ({self.refused})"
        return f"{len(self.entries)} slow commands logged"


def read_slowlog(client: redis.Redis, target: Target, count: int = SLOWLOG_ENTRIES) -> SlowLog:
    """SLOWLOG GET `count`; a server that forbids it (ACL, renamed command) is an observation."""
    try:
        # Two words, so redis-py's SLOWLOG GET parser does not run: it joins the arguments
        # with spaces and loses where each one ends.
        reply = client.execute_command("SLOWLOG", "GET", count)  # type: ignore[no-untyped-call]
    except redis.ResponseError as e:
        return SlowLog(refused=classify(e, target))
    return SlowLog(parse_slowlog(reply), time.time())


def parse_slowlog(reply: list[list[Any]]) -> tuple[SlowCommand, ...]:
    """SLOWLOG GET's raw reply (the only parser of it), in the shapes Redis and Redis Enterprise use."""
    return tuple(_slow_command(entry) for entry in reply)


def _slow_command(entry: list[Any]) -> SlowCommand:
    # Redis: [id, started, duration_us, arguments, client, name] (no client before 4.0); Redis
    # Enterprise and Redis Cloud put a complexity figure (an integer) before the arguments:
    # [id, started, duration_us, complexity, arguments]. The arguments are the first list after
    # the duration.
    at = next((n for n in range(3, len(entry)) if isinstance(entry[n], list)), None)
    words = ([_text(arg) for arg in entry[at]] if at is not None else []) or ["?"]
    after = entry[at + 1] if at is not None and len(entry) > at + 1 else ""
    client = "" if isinstance(after, list) else _text(after)
    named = 2 if words[0].upper() in CONTAINERS and len(words) > 1 else 1
    arguments = masked(words)[named:]
    if len(arguments) > ARGS_SHOWN:
        arguments = [*arguments[:ARGS_SHOWN], f"... (+{len(arguments) - ARGS_SHOWN} more)"]
    return SlowCommand(
        started=float(entry[1]),
        duration_ms=int(entry[2]) / 1000,
        command=" ".join(words[:named]).upper(),
        arguments=tuple(arguments),
        argument_count=len(words) - named,
        client=client,
    )


def masked(words: list[str]) -> list[str]:
    """A command's words with every secret replaced by ***, whatever the server redacted itself.

    Redis 7 redacts AUTH, HELLO AUTH, MIGRATE AUTH, ACL SETUSER and CONFIG SET of passwords in
    SLOWLOG; older servers and proxies do not, so we mask them here too.
    """
    name = [word.upper() for word in words[:2]]
    if name[:1] == ["AUTH"]:
        return words[:1] + [MASK] * (len(words) - 1)
    if name == ["ACL", "SETUSER"]:  # every rule may hold a password (>pass, #hash)
        return [_truncated(word) for word in words[:3]] + [MASK] * (len(words) - 3)
    shown: list[str] = []
    hide_rest = hide_next = False
    for word in words:
        shown.append(MASK if hide_rest or hide_next else _truncated(word))
        hide_next = False
        upper = word.upper()
        if upper in ("AUTH", "AUTH2"):  # HELLO 3 AUTH user pass, MIGRATE ... AUTH2 user pass
            hide_rest = True
        elif "PASS" in upper or "AUTH" in upper:  # CONFIG SET requirepass/masterauth, SENTINEL SET auth-pass
            hide_next = True
    return shown


def _truncated(word: str) -> str:
    return word if len(word) <= ARG_CHARS else f"{word[:ARG_CHARS]}..."


def _text(value: object) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return "".join(char if char.isprintable() else "?" for char in text)


@dataclass(frozen=True)
class LatencyEvent:
    """One LATENCY LATEST line: the latest and the worst spike of an event, in ms."""

    event: str
    latest_at: float
    latest_ms: float
    max_ms: float

    def __str__(self) -> str:
        return f"{self.event} {ms(self.latest_ms)} ms (worst {ms(self.max_ms)} ms)"


@dataclass(frozen=True)
class LatencyEvents:
    """LATENCY LATEST, or why the server would not show it."""

    events: tuple[LatencyEvent, ...] = ()
    read_at: float = 0.0
    refused: Diagnosis | None = None

    def recent_over(self, threshold_ms: float) -> tuple[LatencyEvent, ...]:
        return tuple(
            event
            for event in self.events
            if event.latest_ms > threshold_ms and self.read_at - event.latest_at <= RECENT_S
        )


def read_latency_events(client: redis.Redis, target: Target) -> LatencyEvents:
    """LATENCY LATEST; empty unless the server's latency-monitor-threshold is set."""
    try:
        reply = client.latency_latest()
    except redis.ResponseError as e:
        return LatencyEvents(refused=classify(e, target))
    events = tuple(
        LatencyEvent(_text(line[0]), float(line[1]), float(line[2]), float(line[3])) for line in reply
    )
    return LatencyEvents(events, time.time())
