"""Real HTTP(S) servers on loopback that play the application's health endpoint."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import trustme
from pytest_httpserver import HTTPServer

SEED_PATH = "/api/v1/health/detailed"
HEALTHY = {"status": "healthy", "version": "2.0.0", "services": {"redis": True, "rabbitmq": False}}


def document(**changes: object) -> dict[str, object]:
    """The seed document with some fields changed (None removes a field)."""
    changed = {**HEALTHY, **changes}
    return {name: value for name, value in changed.items() if value is not None}


@contextmanager
def https_app(directory: Path) -> Iterator[tuple[HTTPServer, Path]]:
    """An HTTPS server on 127.0.0.1 with a certificate from a fresh CA; yields it and the CA file."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    ca_file = directory / "health-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=context)
    server.start()
    try:
        yield server, ca_file
    finally:
        server.stop()
