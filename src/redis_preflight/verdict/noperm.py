"""NOPERM, the one way: the check is unverified, naming the command and the grant, never errored.

Managed services and least-privilege users forbid some commands (CONFIG, ACL, DEBUG, ...): that
is the server's choice, not a finding, and the other checks still give their verdict. A NOPERM
reaches a check in one of two forms, and both end here: raised from a fixture or a check (the
hooks below), or caught by a probe and handed over as its `Diagnosis` (`unverified_if_forbidden`).
"""

from __future__ import annotations

from collections.abc import Generator

import pytest
import redis

from redis_preflight import stash
from redis_preflight.errors import Diagnosis, Fault, classify
from redis_preflight.verdict.outcomes import unverified


def unverified_if_forbidden(diagnosis: Diagnosis | None, context: str = "") -> None:
    """A probe's NOPERM: the check is unverified, `context: NOPERM at host: ... grant it (...)`."""
    if diagnosis is not None and diagnosis.fault is Fault.NOPERM:
        unverified(f"{context}: {diagnosis}" if context else str(diagnosis))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    try:
        return (yield)
    except redis.exceptions.NoPermissionError as e:
        unverified_if_forbidden(classify(e, stash.run_of(item).target))
        raise


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    try:
        return (yield)
    except redis.exceptions.NoPermissionError as e:
        unverified_if_forbidden(classify(e, stash.run_of(item).target))
        raise
