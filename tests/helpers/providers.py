"""A managed provider's reply shapes in front of a real redis-server: what no local server produces.

Redis Enterprise and Redis Cloud answer SLOWLOG GET with a complexity figure before each entry's
arguments, and ACL DRYRUN with "unknown user" for users an LDAP directory manages (AUTH as them
succeeds). Everything else is relayed to the real server behind.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from io import BufferedIOBase

# id, unix time, duration in µs, complexity, arguments, client address, client name
ENTERPRISE_SLOWLOG = (
    b"*2\r\n"
    b"*7\r\n:7\r\n:1700000000\r\n:25000\r\n:1\r\n*2\r\n$4\r\nKEYS\r\n$1\r\n*\r\n"
    b"$14\r\n10.0.0.7:51234\r\n$0\r\n\r\n"
    b"*7\r\n:6\r\n:1700000000\r\n:12000\r\n:3\r\n*2\r\n$3\r\nGET\r\n$4\r\nk:01\r\n"
    b"$14\r\n10.0.0.7:51234\r\n$0\r\n\r\n"
)


def _read_reply(stream: BufferedIOBase) -> bytes:
    """One whole RESP2 reply, as raw bytes."""
    line = stream.readline()
    if not line:
        raise ConnectionError("upstream closed")
    kind, rest = line[:1], line[1:-2]
    if kind == b"$" and int(rest) >= 0:
        return line + stream.read(int(rest) + 2)
    if kind == b"*" and int(rest) > 0:
        return line + b"".join(_read_reply(stream) for _ in range(int(rest)))
    return line


def _read_command(stream: BufferedIOBase) -> list[bytes] | None:
    line = stream.readline()
    if not line:
        return None
    count = int(line[1:-2])
    words = []
    for _ in range(count):
        size = int(stream.readline()[1:-2])
        words.append(stream.read(size + 2)[:-2])
    return words


def _serve(client: socket.socket, upstream_port: int) -> None:
    with client, socket.create_connection(("127.0.0.1", upstream_port)) as upstream:
        mine, theirs = client.makefile("rwb"), upstream.makefile("rwb")
        while (words := _read_command(mine)) is not None:
            name = b" ".join(words[:2]).upper()
            if name == b"SLOWLOG GET":
                reply = ENTERPRISE_SLOWLOG
            elif name == b"ACL DRYRUN":
                reply = b"-ERR unknown user\r\n"
            elif name == b"ACL GETUSER":
                reply = b"*-1\r\n"  # LDAP users are not in the ACL list
            else:
                theirs.write(
                    b"*%d\r\n" % len(words) + b"".join(b"$%d\r\n%s\r\n" % (len(w), w) for w in words)
                )
                theirs.flush()
                reply = _read_reply(theirs)
            mine.write(reply)
            mine.flush()


@contextmanager
def enterprise_proxy(upstream_port: int) -> Iterator[int]:
    """A port that answers as Redis Enterprise would, the real server's data behind it."""
    server = socket.create_server(("127.0.0.1", 0))

    def accept() -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=_serve_quietly, args=(client, upstream_port), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield server.getsockname()[1]
    finally:
        server.close()


def _serve_quietly(client: socket.socket, upstream_port: int) -> None:
    try:
        _serve(client, upstream_port)
    except (OSError, ValueError):
        return  # the verifier hung up mid-command: nothing to relay
