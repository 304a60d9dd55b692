"""The run's state, kept in config.stash rather than in globals."""

from __future__ import annotations

import pytest

from redis_preflight.redact import Redactor
from redis_preflight.run import PreflightRun
from redis_preflight.summary import Summary

RUN = pytest.StashKey[PreflightRun]()
SUMMARY = pytest.StashKey[Summary]()
REDACTOR = pytest.StashKey[Redactor]()


def run(config: pytest.Config) -> PreflightRun:
    if RUN not in config.stash:
        raise pytest.UsageError("redis-preflight has no target for this run: give --redis-url")
    return config.stash[RUN]
