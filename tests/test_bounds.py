"""The bounds below the parser: the RESP guard's caps, the whole-reply deadline, the run's deadline,
and the one use of redis-py's internals (compat/redis_py.py), pinned against a real server."""

from __future__ import annotations

import socket
import threading
import time

import pytest
import redis
from helpers import hostile

from redis_preflight.compat.redis_py import WrappedConnection, WrappedSSLConnection, WrappedUnixConnection
from redis_preflight.config.settings import PreflightSettings
from redis_preflight.config.target import parse_target
from redis_preflight.errors import ReplyDeadline, ReplyTooLarge, RunDeadlinePassed, classify
from redis_preflight.probes.bounds import RUN_CLOCK, GuardedSocket, ReplyLimits, RespGuard, deadline
from redis_preflight.probes.client import open_client

KIB = ReplyLimits(max_reply_bytes=1024, reply_timeout_s=1.0)


def test_guard_counts_replies_across_reads():
    guard = RespGuard(ReplyLimits(), "peer")
    stream = b"+PONG\r\n:1\r\n*2\r\n$3\r\nabc\r\n*1\r\n$-1\r\n$5\r\nhello\r\n*0\r\n"
    ends = [guard.scan(stream[i : i + 1]) for i in range(len(stream))]
    assert sum(ends) == 5
    assert guard.idle


@pytest.mark.parametrize(
    ("reply", "said"),
    [
        (b"*2147483647\r\n", "announced 2,147,483,647 elements, over 1 KiB"),
        (b"%1000\r\n", "announced 2,000 elements, over 1 KiB"),
        (b"$1099511627776\r\n", "announced a 1 TiB string, over 1 KiB"),
        (b"*300\r\n" + b":1\r\n" * 300, "exceeded 1 KiB"),
        (b"+" + b"x" * 2000, "exceeded 1 KiB"),
        (b"*1\r\n" * 17, "nested deeper than 16 levels"),
    ],
    ids=["array", "map", "bulk", "total", "line", "depth"],
)
def test_guard_refuses_a_reply_over_its_caps(reply, said):
    guard = RespGuard(KIB, "10.0.0.5:6379")
    guard.command = "INFO"
    with pytest.raises(ReplyTooLarge) as refused:
        guard.scan(reply)
    assert str(refused.value).startswith(f"INFO reply from 10.0.0.5:6379 {said}")


def test_unstructured_guard_still_refuses_a_huge_array_header_split_across_reads():
    guard = RespGuard(ReplyLimits(), "peer")
    guard.structured = False
    guard.scan(b":1\r\n*21474")
    with pytest.raises(ReplyTooLarge, match="announced 2,147,483,647 elements"):
        guard.scan(b"83647\r\n:1\r\n")


@pytest.fixture
def trickling_pair():
    """A connected socket whose peer sends `reply` one byte every `every_s` seconds."""
    opened: list[socket.socket] = []

    def trickle(reply: bytes, every_s: float) -> socket.socket:
        mine, theirs = socket.socketpair()
        opened.append(mine)
        threading.Thread(target=_send, args=(theirs, reply, every_s), daemon=True).start()
        return mine

    yield trickle
    for sock in opened:
        sock.close()


def _send(theirs: socket.socket, reply: bytes, every_s: float) -> None:

    with theirs:
        for byte in reply:
            time.sleep(every_s)
            try:
                theirs.sendall(bytes([byte]))
            except OSError:
                return


def drain(sock: GuardedSocket) -> None:
    while sock.recv(64):
        pass


def test_the_deadline_is_for_the_whole_reply_not_each_read(trickling_pair):
    sock = GuardedSocket(trickling_pair(b"+" + b"x" * 100 + b"\r\n", 0.1), KIB, "peer")
    sock.sendall(b"*1\r\n$4\r\nPING\r\n")
    started = time.monotonic()
    with pytest.raises(ReplyDeadline, match="no complete PING reply from peer within 1 s"):
        drain(sock)
    assert time.monotonic() - started < 1.5


def test_a_reply_ending_in_time_starts_the_next_ones_clock(trickling_pair):
    sock = GuardedSocket(trickling_pair(b":1\r\n" * 6, 0.1), KIB, "peer")
    sock.sendall(b"*1\r\n$4\r\nPING\r\n")
    received = b""
    while len(received) < 24:
        received += sock.recv(64)
    assert sock.guard.idle


def test_deadline_cuts_a_stream_read_by_makefile(trickling_pair):
    mine = trickling_pair(b"HTTP/1.1 200 OK\r\n", 0.3)
    started = time.monotonic()
    with pytest.raises(TimeoutError), deadline(mine, 0.5), mine.makefile("rb") as stream:
        stream.readline()
    assert time.monotonic() - started < 1.0


def test_the_run_deadline_stops_every_read(trickling_pair):
    sock = GuardedSocket(trickling_pair(b"+PONG\r\n", 0.3), KIB, "peer")
    RUN_CLOCK.start(0.2)
    try:
        sock.sendall(b"*1\r\n$4\r\nPING\r\n")
        with pytest.raises(RunDeadlinePassed) as passed:
            drain(sock)
    finally:
        RUN_CLOCK.start(None)
    diagnosis = classify(passed.value, parse_target("redis://10.0.0.5:6379/0"))
    assert diagnosis.message.startswith("the run's deadline of 0.2 s passed (--run-deadline)")


# --- compat/redis_py.py: redis-py's internals, pinned ---


def test_every_connection_class_redis_py_picks_is_guarded(tmp_path):
    settings = PreflightSettings(tls_insecure=True)
    picked = {
        "redis://127.0.0.1:6379/0": WrappedConnection,
        "rediss://127.0.0.1:6379/0": WrappedSSLConnection,
        f"unix://{tmp_path}/redis.sock": WrappedUnixConnection,
    }
    for url, guarded in picked.items():
        client = open_client(parse_target(url), settings)
        assert client.connection_pool.connection_class is guarded, url
        assert callable(client.connection_pool.connection_kwargs["wrap_socket"])


def test_a_real_reply_over_the_cap_is_refused_and_the_client_goes_on(plain_redis):
    settings = PreflightSettings(max_reply_bytes=1024, socket_timeout=2)
    client = open_client(parse_target(plain_redis.url), settings)
    with pytest.raises(
        ReplyTooLarge,
        match=rf"^INFO reply from 127.0.0.1:{plain_redis.port} announced a [\d.]+ KiB string, over 1 KiB",
    ):
        client.info()
    assert client.ping()
    connection = client.connection_pool.get_connection()
    assert isinstance(connection._sock, GuardedSocket)  # the parser reads what _connect returned
    client.connection_pool.release(connection)
    client.close()


def test_a_real_reply_trickled_by_a_proxy_ends_at_the_socket_timeout(plain_redis):
    settings = PreflightSettings(socket_timeout=1)
    with hostile.resp_proxy(plain_redis.port, {"PING": hostile.trickle}) as port:
        client = open_client(parse_target(f"redis://127.0.0.1:{port}/0"), settings)
        started = time.monotonic()
        with pytest.raises(redis.TimeoutError, match="no complete PING reply"):
            client.ping()
        assert time.monotonic() - started < 1.5
        client.close()
