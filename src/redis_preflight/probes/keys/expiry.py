"""TTL arithmetic of the census: the picture's buckets, JWT expiries, herds of expiries."""

from __future__ import annotations

import binascii
import math
from collections.abc import Sequence

from pydantic_core import from_json

JWT_TOLERANCE_MS = 2000  # the application rounds the TTL it sets to whole seconds
BUCKETS = (  # (upper bound in seconds, label) for the TTL picture: [previous bound, bound)
    (60, "< 1 min"),
    (600, "1-10 min"),
    (3600, "10 min-1 h"),
    (6 * 3600, "1-6 h"),
    (86400, "6-24 h"),
    (7 * 86400, "1-7 d"),
    (30 * 86400, "7-30 d"),
    (math.inf, ">= 30 d"),
)
BUCKET_EDGES_MS = [edge * 1000 for edge, _ in BUCKETS[:-1]]
_B64URL = bytes.maketrans(b"-_", b"+/")


def jwt_exp(token: bytes) -> int | None:
    """The `exp` claim of a JWT, read without verifying the signature; None if not a JWT."""
    parts = token.split(b".")
    if len(parts) != 3:
        return None
    try:
        claims = from_json(binascii.a2b_base64(parts[1].translate(_B64URL) + b"=="))
    except ValueError:
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    return int(exp) if isinstance(exp, (int, float)) and not isinstance(exp, bool) else None


def busiest_window(expiries_ms: Sequence[int], window_ms: int) -> tuple[int, int]:
    """(how many, from when): the most expiry instants that fall within one `window_ms`."""
    ordered = sorted(expiries_ms)
    best, start, low = 0, 0, 0
    for high, moment in enumerate(ordered):
        while moment - ordered[low] > window_ms:
            low += 1
        if high - low + 1 > best:
            best, start = high - low + 1, ordered[low]
    return best, start
