"""Sentinel: which primary the sentinels name, whether they can fail it over, and its replicas."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import redis

from redis_preflight.config.settings import PreflightSettings
from redis_preflight.config.target import Sentinels, Target, host_port
from redis_preflight.errors import Diagnosis, classify, sentinel_failure
from redis_preflight.probes.client import open_client

T = TypeVar("T")
UNHEALTHY = ("s_down", "o_down", "disconnected")


@dataclass(frozen=True)
class SentinelAnswer:
    """One sentinel's reply: the primary it names (host:port), or why it did not answer."""

    address: str
    primary: str | None = None
    failure: Diagnosis | None = None


@dataclass(frozen=True)
class PrimaryLookup:
    """SENTINEL GET-MASTER-ADDR-BY-NAME asked of every sentinel in the URL."""

    sentinels: Sentinels
    answers: tuple[SentinelAnswer, ...]
    primary: tuple[str, int] | None
    elapsed_ms: float
    failure: Diagnosis | None = None

    @property
    def answered(self) -> tuple[SentinelAnswer, ...]:
        return tuple(answer for answer in self.answers if answer.failure is None)


def _ask_each(
    target: Target, settings: PreflightSettings, command: Callable[[redis.Redis], T]
) -> list[tuple[str, T | None, Diagnosis | None]]:
    """Send `command` to every sentinel at once: a dead one costs one timeout, not one each."""
    sentinels = target.sentinels
    if sentinels is None:
        return []

    def ask(host: str, port: int) -> tuple[str, T | None, Diagnosis | None]:
        # Sentinels are asked without the data nodes' credentials and without SELECT.
        at = Target(scheme=target.scheme, host=host, port=port)
        client = open_client(at, settings)
        try:
            return at.address, command(client), None
        except (OSError, redis.RedisError) as e:
            return at.address, None, classify(e, at)
        finally:
            client.close()

    with ThreadPoolExecutor(max_workers=len(sentinels.addresses)) as pool:
        return list(pool.map(lambda address: ask(*address), sentinels.addresses))


def locate_primary(target: Target, settings: PreflightSettings) -> PrimaryLookup:
    """The primary most sentinels name; a failure when none answers or none knows the service."""
    sentinels = target.sentinels
    if sentinels is None:
        raise ValueError("locate_primary needs a redis+sentinel target")
    started = time.perf_counter()
    replies = _ask_each(
        target,
        settings,
        lambda c: c.sentinel_get_master_addr_by_name(sentinels.service, return_responses=True),
    )
    answers = tuple(
        SentinelAnswer(address, _address(reply), failure=failure) for address, reply, failure in replies
    )
    elapsed = (time.perf_counter() - started) * 1000
    named = Counter(answer.primary for answer in answers if answer.primary)
    if not named:
        first_failure = next((answer.failure for answer in answers if answer.failure), None)
        answered = any(answer.failure is None for answer in answers)
        failure = sentinel_failure(sentinels.service, sentinels.hosts, answered, first_failure)
        return PrimaryLookup(sentinels, answers, None, elapsed, failure)
    host, _, port = named.most_common(1)[0][0].rpartition(":")
    return PrimaryLookup(sentinels, answers, (host.strip("[]"), int(port)), elapsed)


@dataclass(frozen=True)
class ReplicaState:
    address: str
    flags: tuple[str, ...]
    link: str

    @property
    def healthy(self) -> bool:
        return not set(self.flags) & set(UNHEALTHY) and self.link == "ok"


@dataclass(frozen=True)
class SentinelView:
    """What the sentinels say now: quorum per sentinel, the primary's flags, its replicas."""

    lookup: PrimaryLookup
    quorum: tuple[SentinelAnswer, ...]
    primary_flags: tuple[str, ...]
    replicas: tuple[ReplicaState, ...]
    failure: Diagnosis | None = None


def observe(lookup: PrimaryLookup, target: Target, settings: PreflightSettings) -> SentinelView:
    """CKQUORUM of every sentinel; SENTINEL MASTER and REPLICAS of the first that answers."""
    service = lookup.sentinels.service
    quorum = tuple(
        SentinelAnswer(address, failure=failure)
        for address, _, failure in _ask_each(target, settings, lambda c: c.sentinel_ckquorum(service))
    )
    states = _ask_each(
        target,
        settings,
        lambda c: (c.sentinel_master(service, return_responses=True), c.sentinel_slaves(service)),
    )
    answered = [reply for _, reply, failure in states if failure is None and reply is not None]
    if not answered:
        failure = next((failure for _, _, failure in states if failure), None)
        return SentinelView(lookup, quorum, (), (), failure)
    master, slaves = answered[0]
    flags = _flags(master) if isinstance(master, dict) else ()
    return SentinelView(lookup, quorum, flags, tuple(_replica(s) for s in slaves))


def _address(reply: object) -> str | None:
    """(host, port) from GET-MASTER-ADDR-BY-NAME; None when the sentinel knows no such service."""
    if not isinstance(reply, (tuple, list)) or len(reply) != 2:
        return None
    host = reply[0].decode() if isinstance(reply[0], bytes) else str(reply[0])
    return host_port(host, int(reply[1]))


def _flags(state: dict[str, Any]) -> tuple[str, ...]:
    flags = state.get("flags", "")
    return tuple(sorted(flags)) if isinstance(flags, set) else tuple(str(flags).split(","))


def _replica(state: dict[str, Any]) -> ReplicaState:
    address = host_port(str(state["ip"]), int(state["port"]))
    return ReplicaState(address, _flags(state), str(state.get("master-link-status", "unknown")))
