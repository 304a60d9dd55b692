"""A small RESP proxy in front of a real redis-server, for what a real one cannot show: a managed
service's INFO fields (os:Amazon ElastiCache, bytes_received_per_sec, ...), its reply shapes
(`replaced`: Redis Enterprise's SLOWLOG entries, ACL DRYRUN's "unknown user"), TLS terminated in
front of plaintext, and AUTH with a cloud token (verified here, then swapped for the real
password of an ACL user).

Every other command and reply passes through unchanged in meaning (simple strings come back as
bulk strings, which redis-py reads the same).
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import hiredis

from redis_preflight.ephemeral.local_server import free_port


class ErrorReply(Exception):
    """An error reply (`-ERR ...`), as hiredis reads it and as `replaced` gives it."""


# (username, token) -> True when the token verifies.
TokenCheck = Callable[[str | None, str], bool]


def encode(reply: Any) -> bytes:
    if isinstance(reply, ErrorReply):
        return b"-" + str(reply).encode() + b"\r\n"
    if reply is None:
        return b"$-1\r\n"
    if isinstance(reply, int):
        return b":%d\r\n" % reply
    if isinstance(reply, bytes):
        return b"$%d\r\n%b\r\n" % (len(reply), reply)
    if isinstance(reply, list):
        return b"*%d\r\n" % len(reply) + b"".join(encode(item) for item in reply)
    raise TypeError(f"cannot encode {type(reply).__name__}")


def with_fields(info: bytes, fields: dict[str, str]) -> bytes:
    """INFO text with `fields` replacing existing lines or added to the Server section."""
    lines = info.decode().split("\r\n")
    for name, value in fields.items():
        at = next((n for n, line in enumerate(lines) if line.startswith(f"{name}:")), None)
        if at is not None:
            lines[at] = f"{name}:{value}"
        elif "# Server" in lines:
            lines.insert(lines.index("# Server") + 1, f"{name}:{value}")
    return "\r\n".join(lines).encode()


@dataclass
class ProviderProxy:
    upstream_port: int
    info_fields: dict[str, str] = field(default_factory=dict)
    tls: ssl.SSLContext | None = None
    # The real server's reply to these commands ("SLOWLOG GET", "ACL DRYRUN": the first two words)
    # is swapped for the given one, in order, so pipelines keep working.
    replaced: dict[bytes, Any] = field(default_factory=dict)
    # Token AUTH: verify with `check`, then AUTH upstream as `user` with `password`.
    check: TokenCheck | None = None
    user: str = ""
    password: str = ""
    port: int = 0
    auths: list[tuple[str | None, str, bool]] = field(default_factory=list)  # (user, token, verified)

    def start(self) -> ProviderProxy:
        self.port = free_port()
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._stopped = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        return f"{'rediss' if self.tls else 'redis'}://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        self._stopped.set()
        self._listener.close()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            if self.tls is not None:
                client.settimeout(5)
                client = self.tls.wrap_socket(client, server_side=True)
                client.settimeout(None)
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
            upstream.settimeout(None)
        except (OSError, ssl.SSLError):
            client.close()
            return
        asked: deque[bytes] = deque()
        threading.Thread(target=self._replies, args=(upstream, client, asked), daemon=True).start()
        self._commands(client, upstream, asked)

    def _commands(self, client: socket.socket, upstream: socket.socket, asked: deque[bytes]) -> None:
        reader = hiredis.Reader()
        try:
            while data := client.recv(65536):
                reader.feed(data)
                while (command := reader.gets()) is not False:
                    name = command[0].upper()
                    if name == b"AUTH" and self.check is not None:
                        command = self._auth(command)
                    two_words = b" ".join(command[:2]).upper()
                    asked.append(two_words if two_words in self.replaced else name)
                    upstream.sendall(encode(command))
        except (OSError, hiredis.ProtocolError):
            pass
        finally:
            upstream.close()
            client.close()

    def _auth(self, command: list[bytes]) -> list[bytes]:
        user = command[1].decode() if len(command) == 3 else None
        token = command[-1].decode()
        verified = self.check is not None and self.check(user, token)
        self.auths.append((user, token, verified))
        password = self.password if verified else "not-the-token"
        return [b"AUTH", self.user.encode(), password.encode()]

    def _replies(self, upstream: socket.socket, client: socket.socket, asked: deque[bytes]) -> None:
        reader = hiredis.Reader(replyError=ErrorReply)
        try:
            while data := upstream.recv(65536):
                reader.feed(data)
                out = []
                while (reply := reader.gets()) is not False:
                    name = asked.popleft() if asked else b""
                    if name in self.replaced:
                        reply = self.replaced[name]
                    elif name == b"INFO" and isinstance(reply, bytes) and self.info_fields:
                        reply = with_fields(reply, self.info_fields)
                    out.append(encode(reply))
                client.sendall(b"".join(out))
        except OSError:
            pass
        finally:
            client.close()
