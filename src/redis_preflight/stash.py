"""The run's state, kept in config.stash rather than in globals."""

from __future__ import annotations

import pytest

from redis_preflight.config.fleet import index_of
from redis_preflight.config.redact import Redactor
from redis_preflight.probes.latency import LatencySample
from redis_preflight.readiness import Waited
from redis_preflight.run import PreflightRun
from redis_preflight.verdict.summary import Summary

RUN = pytest.StashKey[PreflightRun]()  # the first target's run: the only one unless a fleet
FLEET = pytest.StashKey[tuple[PreflightRun, ...]]()
SUMMARY = pytest.StashKey[Summary]()
REDACTOR = pytest.StashKey[Redactor]()
WAITED = pytest.StashKey[list[Waited]]()  # what --wait saw of each target
# A fleet's PING bursts taken together, by id() of each run, until its latency fixture takes it.
LATENCY = pytest.StashKey[dict[int, LatencySample | BaseException]]()


def run(config: pytest.Config) -> PreflightRun:
    if RUN not in config.stash:
        raise pytest.UsageError("redis-preflight has no target for this run: give --redis-url")
    return config.stash[RUN]


def fleet(config: pytest.Config) -> tuple[PreflightRun, ...]:
    """Every target's run, in the order given."""
    return config.stash[FLEET] if FLEET in config.stash else (run(config),)


def run_of(item: pytest.Item) -> PreflightRun:
    """The run of the target this check runs against."""
    return fleet(item.config)[index_of(item)]
