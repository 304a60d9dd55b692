"""`--redis-url ephemeral`: a throwaway Redis, seeded with a valid sample keyspace."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import redis

from redis_preflight.contract.samples import seed
from redis_preflight.ephemeral.local_server import LocalRedis


@dataclass
class Ephemeral:
    url: str
    provider: str
    stop: Callable[[], None]


def docker_answers(timeout: float = 2.0) -> bool:
    """Does a Docker daemon answer on its unix socket? Never waits long, never leaks a socket.

    Only the local socket is asked: a DOCKER_HOST over TCP may be another machine.
    """
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if not host.startswith("unix://"):
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(host.removeprefix("unix://"))
            sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            reply = sock.recv(64)
        return reply.startswith(b"HTTP/1.") and b" 200 " in reply
    except OSError:
        return False


def start_ephemeral() -> Ephemeral:
    """Testcontainers when a Docker daemon answers, else redis-server from PATH."""
    ephemeral = _start_container() if docker_answers() else _start_binary()
    client = redis.Redis.from_url(ephemeral.url, socket_timeout=5, socket_connect_timeout=5)
    try:
        seed(client)
    finally:
        client.close()
    return ephemeral


def _start_container() -> Ephemeral:
    from testcontainers.redis import RedisContainer

    container = RedisContainer("redis:7-alpine").start()
    host = container.get_container_host_ip()
    port = container.get_exposed_port(container.port)
    return Ephemeral(f"redis://{host}:{port}/0", "testcontainers (redis:7-alpine)", container.stop)


def _start_binary() -> Ephemeral:
    directory = Path(tempfile.mkdtemp(prefix="redis-preflight-"))
    server = LocalRedis(directory).start()

    def stop() -> None:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)

    return Ephemeral(server.url, f"redis-server binary on 127.0.0.1:{server.port}", stop)
