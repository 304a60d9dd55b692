"""A check that needs a command the user may not run is skipped naming the command, never errored.

Managed services and least-privilege users forbid some commands (CONFIG, ACL, DEBUG, ...): that
is the server's choice, not a finding, and the other checks still give their verdict.
"""

from __future__ import annotations

from collections.abc import Generator

import pytest
import redis

from redis_preflight import stash
from redis_preflight.errors import classify
from redis_preflight.verdict.outcomes import unverified


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    try:
        return (yield)
    except redis.exceptions.NoPermissionError as e:
        unverified(classify(e, stash.run_of(item).target).message)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    try:
        return (yield)
    except redis.exceptions.NoPermissionError as e:
        unverified(classify(e, stash.run_of(item).target).message)
