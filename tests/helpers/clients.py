"""A test's own client of a local server, and waiting for a server to reach a state."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import redis

from redis_preflight.ephemeral.local_server import LocalRedis


def client_of(server: LocalRedis, **options: Any) -> redis.Redis:
    return redis.Redis(port=server.port, protocol=2, socket_timeout=5, **options)


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    """Poll `condition` (a server still starting may refuse: that is "not yet") until it holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except (OSError, redis.RedisError):
            pass
        time.sleep(0.05)
    raise TimeoutError(f"{what}: not within {timeout} s")
