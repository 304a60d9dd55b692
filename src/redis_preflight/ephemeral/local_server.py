"""Start and stop a real redis-server on a free loopback port, in a directory of its own.

Used by `--redis-url ephemeral` and by the project's own tests.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

# Another redis-server than the one on PATH (another release line), for the tests and `ephemeral`.
BINARY_ENV = "PREFLIGHT_TEST_REDIS_SERVER"


def redis_server_binary() -> str:
    return os.environ.get(BINARY_ENV) or "redis-server"


class LocalServerError(RuntimeError):
    """redis-server is missing or did not start; the message says what to do."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LocalRedis:
    """A redis-server process we own; `directives` are extra redis.conf lines."""

    directory: Path
    directives: list[str] = field(default_factory=list)
    port: int = 0
    binary: str = field(default_factory=redis_server_binary)
    # A sentinel is redis-server --sentinel: the same binary serves every line under test.
    sentinel: bool = False
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def log(self) -> Path:
        return self.directory / "redis.log"

    def start(self, timeout: float = 10.0, wait_port: int | None = None) -> LocalRedis:
        """Start the server and wait until `wait_port` (default: its port) accepts TCP."""
        path = shutil.which(self.binary)
        if path is None:
            raise LocalServerError(
                f"{self.binary} not found: install redis-server (apt-get install redis-server), "
                f"or point {BINARY_ENV} at one"
            )
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        config = self.directory / "redis.conf"
        config.write_text("\n".join(self._base_directives() + self.directives) + "\n")
        command = [path, str(config), *(["--sentinel"] if self.sentinel else [])]
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL)  # noqa: S603
        self._wait(wait_port or self.port, timeout)
        return self

    def _base_directives(self) -> list[str]:
        return [
            "bind 127.0.0.1",
            f"port {self.port}",
            f'dir "{self.directory}"',
            f'logfile "{self.log}"',
            "daemonize no",
            'save ""',
            "appendonly no",
        ]

    def _wait(self, port: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise LocalServerError(f"redis-server exited at start: {self.log_tail()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise LocalServerError(f"redis-server did not listen on {port} in {timeout} s")

    def log_tail(self) -> str:
        lines = self.log.read_text().splitlines() if self.log.exists() else []
        return " | ".join(lines[-3:]) or "(no log)"

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
