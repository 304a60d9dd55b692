"""The one private use of the standard library's ssl module.

The server's certificate chain, as presented even when verification rejected it, is public as
`SSLSocket.get_unverified_chain` only from Python 3.13 (gh-109109); the private `SSLObject` has had
the method since 3.10, the oldest Python this package supports.
"""

from __future__ import annotations

import ssl
from typing import Any


def unverified_chain(tls: ssl.SSLSocket) -> list[Any]:
    """The certificates the server presented, leaf first (empty when it sent none)."""
    public = getattr(tls, "get_unverified_chain", None)
    chain = public() if public is not None else tls._sslobj.get_unverified_chain()  # type: ignore[attr-defined]
    return list(chain or ())
