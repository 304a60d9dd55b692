"""The verifier's Redis client: one per run, no retries, every call under a timeout."""

from __future__ import annotations

from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.cluster import RedisCluster
from redis.retry import Retry

from redis_preflight.settings import PreflightSettings
from redis_preflight.target import Target


def client_options(target: Target, settings: PreflightSettings) -> dict[str, Any]:
    """Keyword arguments for redis.Redis; shared by every probe that opens a client."""
    options: dict[str, Any] = {
        "db": target.db,
        "username": target.username,
        "password": target.password.get_secret_value() if target.password else None,
        "socket_connect_timeout": settings.connect_timeout,
        "socket_timeout": settings.socket_timeout,
        # redis-py retries three times by default: a tarpit would cost four timeouts.
        "retry": Retry(NoBackoff(), 0),
        "health_check_interval": 0,
        # RESP2: HELLO (RESP3) is unknown to Redis 5 and to some managed proxies.
        "protocol": 2,
    }
    if target.is_unix:
        options["unix_socket_path"] = target.socket_path
        return options
    options.update(host=target.host, port=target.port)
    if target.tls:
        options.update(ssl=True, ssl_cert_reqs="required", ssl_check_hostname=True)
    return options


def open_client(target: Target, settings: PreflightSettings, **overrides: Any) -> redis.Redis:
    """A client for `target`; nothing is sent until the first command."""
    return redis.Redis(**{**client_options(target, settings), **overrides})


def open_cluster_client(target: Target, settings: PreflightSettings) -> RedisCluster:
    """A cluster client bootstrapped from `target`, as the application's would be: it connects now.

    Node connections get the same timeouts and RESP2; the no-retry policy is the cluster's own
    (RedisCluster refuses `retry` among node options, and a cluster has only db 0).
    """
    options = client_options(target, settings)
    retry = options.pop("retry")
    options.pop("db")
    # Partial coverage is a finding to report, not a reason for the client to refuse to start.
    return RedisCluster(retry=retry, require_full_coverage=False, **options)
