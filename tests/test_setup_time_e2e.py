"""Connection set-up time end to end: TCP, TLS and AUTH each timed, and a slow set-up flagged."""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Iterator
from urllib.parse import quote

import pytest

from conftest import PASSWORD
from redis_preflight.ephemeral.local_server import LocalRedis


class SlowFirstReply:
    """A loopback proxy to a server that holds the server's first reply on each connection."""

    def __init__(self, upstream_port: int, delay_s: float) -> None:
        self.upstream_port, self.delay_s = upstream_port, delay_s
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.port = self.listener.getsockname()[1]
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client: socket.socket) -> None:
        upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
        held = True
        with client, upstream:
            while readable := select.select([client, upstream], [], [], 5)[0]:
                for source in readable:
                    data = source.recv(65536)
                    if not data:
                        return
                    if source is upstream and held:
                        time.sleep(self.delay_s)
                        held = False
                    (client if source is upstream else upstream).sendall(data)

    def close(self) -> None:
        self.stopped.set()
        self.thread.join()
        self.listener.close()


@pytest.fixture
def slow_auth(password_redis: LocalRedis) -> Iterator[SlowFirstReply]:
    proxy = SlowFirstReply(password_redis.port, delay_s=0.6)
    yield proxy
    proxy.close()


def test_set_up_stages_are_timed(run_preflight, password_redis):
    url = f"redis://:{quote(PASSWORD, safe='')}@127.0.0.1:{password_redis.port}/0"
    outcome = run_preflight("--redis-url", url)
    setup = outcome.check("test_setup_time")
    assert (setup["outcome"], setup["severity"]) == ("passed", "advisory")
    assert setup["message"].startswith("TCP ")
    assert ", AUTH " in setup["message"]
    assert "; total " in setup["message"]


def test_slow_set_up_is_flagged(run_preflight, slow_auth):
    url = f"redis://:{quote(PASSWORD, safe='')}@127.0.0.1:{slow_auth.port}/0"
    # AUTH waits 0.6 s, over half the 1 s socket timeout that bounds it, yet within it.
    outcome = run_preflight("--redis-url", url, "--socket-timeout", "1")
    assert outcome.returncode == 0, outcome.output
    setup = outcome.check("test_setup_time")
    assert (setup["outcome"], setup["severity"]) == ("advisory", "advisory")
    assert setup["message"].startswith(
        "connection set-up near its timeouts: AUTH over half its 1 s timeout (TCP "
    )
    assert ", AUTH 6" in setup["message"]
    assert setup["message"].endswith("raise --connect-timeout/--socket-timeout")
