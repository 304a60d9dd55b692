"""The verifier's Redis client: one per run, no retries, every call under a timeout."""

from __future__ import annotations

import ssl
from dataclasses import replace
from pathlib import Path
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.cluster import RedisCluster
from redis.connection import HiredisRespSerializer
from redis.retry import Retry

from redis_preflight.compat.redis_py import use_packer, wrap_sockets
from redis_preflight.config.renamed import CommandNames
from redis_preflight.config.settings import PreflightSettings
from redis_preflight.config.target import Target
from redis_preflight.probes.bounds import GuardedSocket, ReplyLimits


def client_options(target: Target, settings: PreflightSettings) -> dict[str, Any]:
    """Keyword arguments for redis.Redis; shared by every probe that opens a client."""
    options: dict[str, Any] = {
        "db": target.db,
        **credentials(target),
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
        options.update(tls_options(settings))
    return options


def tls_options(settings: PreflightSettings) -> dict[str, Any]:
    """redis-py's ssl_* arguments; `tls_context` builds the very same context for the probes."""
    return {
        "ssl": True,
        "ssl_cert_reqs": "none" if settings.tls_insecure else "required",
        "ssl_check_hostname": not settings.tls_insecure,
        "ssl_ca_certs": _path(settings.tls_ca_file),
        "ssl_certfile": _path(settings.tls_cert_file),
        "ssl_keyfile": _path(settings.tls_key_file),
    }


def tls_context(settings: PreflightSettings, *, verify: bool | None = None) -> ssl.SSLContext:
    """The context redis-py's SSLConnection builds from `tls_options`, step for step.

    The system store stays loaded beside --tls-ca-file, as in redis-py. `verify` overrides
    --tls-insecure (to learn what a verified handshake would have said).
    """
    context = ssl.create_default_context()
    insecure = settings.tls_insecure if verify is None else not verify
    if insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if settings.tls_cert_file is not None:
        context.load_cert_chain(settings.tls_cert_file, _path(settings.tls_key_file))
    if settings.tls_ca_file is not None:
        context.load_verify_locations(cafile=settings.tls_ca_file)
    return context


def _path(path: Path | None) -> str | None:
    return None if path is None else str(path)


def credentials(target: Target) -> dict[str, Any]:
    """A cloud token provider (asked again for each new connection), else the URL's user and password."""
    if target.token is not None:
        return {"credential_provider": target.token}
    return {
        "username": target.username,
        "password": target.password.get_secret_value() if target.password else None,
    }


def reply_limits(settings: PreflightSettings) -> ReplyLimits:
    """The caps every reply is held to: its size, and the socket timeout for the whole of it."""
    return ReplyLimits(settings.max_reply_bytes, settings.socket_timeout)


def open_client(target: Target, settings: PreflightSettings, **overrides: Any) -> redis.Redis:
    """A client for `target`, every reply bounded; nothing is sent until the first command."""
    options = {**client_options(target, settings), **overrides}
    client = redis.Redis(**options)
    names = settings.command_names
    if names:
        # `command_packer` is a Connection argument: every command this client's connections
        # send (pipelines, AUTH and SELECT included) is packed through the renaming map.
        client.connection_pool.connection_kwargs["command_packer"] = RenamingPacker(names)
    limits = replace(reply_limits(settings), reply_timeout_s=options["socket_timeout"])
    # A bound's message names the command as the user knows it: a renamed name is a secret.
    known = {wire.decode(errors="replace").upper(): name.decode() for name, wire in names.renamed.items()}
    return wrap_sockets(client, lambda sock, peer: GuardedSocket(sock, limits, peer, known))


def command_names(client: redis.Redis) -> CommandNames:
    """The renaming map `open_client` gave this client (the run's one map; empty if none): for
    senders that build their own RESP on its connections (probes.keys.resp)."""
    packer = client.connection_pool.connection_kwargs.get("command_packer")
    return packer.names if isinstance(packer, RenamingPacker) else CommandNames()


class RenamingPacker:
    """redis-py's hiredis packer, with each command's name as the server knows it."""

    def __init__(self, names: CommandNames) -> None:
        self.names = names
        self.packer = HiredisRespSerializer()

    def pack(self, *args: Any) -> list[bytes]:
        packed: list[bytes] = self.packer.pack(*self.names.args(args))
        return packed


def open_cluster_client(target: Target, settings: PreflightSettings) -> RedisCluster:
    """A cluster client bootstrapped from `target`, as the application's would be: it connects now.

    Node connections get the same timeouts and RESP2; the no-retry policy is the cluster's own
    (RedisCluster refuses `retry` among node options, and a cluster has only db 0).
    """
    options = client_options(target, settings)
    retry = options.pop("retry")
    options.pop("db")
    names = settings.command_names
    if names:
        # Each node connection's packer renames from its first command on after the handshake
        # (CLUSTER SLOTS, COMMAND, ...): RedisCluster takes no command_packer of its own.
        options["redis_connect_func"] = use_packer(RenamingPacker(names))
    # Partial coverage is a finding to report, not a reason for the client to refuse to start.
    return RedisCluster(retry=retry, require_full_coverage=False, **options)
