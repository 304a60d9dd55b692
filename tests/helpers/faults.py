"""Real misbehaving peers on loopback: each fault a person meets when Redis is not really ready."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from conftest import DEBUG_ENABLED, REDIS_6
from redis_preflight.ephemeral.local_server import LocalRedis


@contextmanager
def tarpit() -> Iterator[int]:
    """Accepts TCP (the kernel completes the handshake) and never says a word."""
    with socket.create_server(("127.0.0.1", 0), backlog=16) as server:
        yield server.getsockname()[1]


@contextmanager
def blackhole() -> Iterator[int]:
    """A port whose accept queue is full: Linux drops further SYNs, so connects time out."""
    with socket.create_server(("127.0.0.1", 0), backlog=0) as server:
        port = server.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            yield port


@contextmanager
def hang_up_peer() -> Iterator[int]:
    """Accepts each connection and closes it at once."""
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                peer, _ = server.accept()
            except OSError:
                return
            peer.close()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield server.getsockname()[1]
    finally:
        server.close()


@contextmanager
def http_server() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def loading_redis(directory: Path, seconds: int = 30) -> LocalRedis:
    """A redis-server still loading its dataset for about `seconds`, answering -LOADING meanwhile.

    key-load-delay slows the load of each key; loading-process-events-interval-bytes (7.0+) makes
    the server answer clients every KB of its RDB. Redis 6 answers every 2 MB of the file only:
    there its keys hold 8 KB values stored uncompressed (DEBUG POPULATE pads with zeros, which LZF
    shrinks to a few bytes: a 30 s load was a 4 MB file, answered once), at 2 ms each, so it
    answers every 256 keys, about every 0.5 s.
    """
    per_key_us, value_bytes = (2000, 8192) if REDIS_6 else (1000, 10)
    seeder = LocalRedis(directory, [*DEBUG_ENABLED, "rdbcompression no"]).start()
    client = redis.Redis(port=seeder.port)
    client.execute_command("DEBUG", "POPULATE", seconds * 1_000_000 // per_key_us, "key", value_bytes)
    client.save()
    client.close()
    seeder.stop()
    answering = [] if REDIS_6 else ["loading-process-events-interval-bytes 1024"]
    return LocalRedis(directory, [f"key-load-delay {per_key_us}", *answering]).start()


@contextmanager
def on_first(server: LocalRedis, command: str, action: Callable[[], None]) -> Iterator[None]:
    """Run `action` the moment the server executes `command` exactly ("INFO": the server area's
    snapshot, not the commands table's "INFO default"; seen via MONITOR): a fault mid-run.

    The watching thread never raises: on a loaded machine its feed may time out or break while
    the fault plays out. What it met before the action ran is raised here, after the run.
    """
    monitor = redis.Redis(port=server.port).monitor()
    ready = threading.Event()
    fired = threading.Event()
    failures: list[Exception] = []

    def watch() -> None:
        try:
            with monitor as feed:
                ready.set()
                for seen in feed.listen():
                    if seen["command"].upper() == command:
                        action()
                        fired.set()
                        return
        except Exception as error:  # noqa: BLE001 - recorded, judged by the test's thread
            failures.append(error)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    ready.wait(5)
    yield
    thread.join(timeout=0.1)
    if failures and not fired.is_set():
        failure = failures[0]
        raise RuntimeError(
            f"the fault on {command} never fired: {type(failure).__name__}: {failure}"
        ) from failure
