"""TTL arithmetic of the census: the picture's buckets, JWT expiries, herds of expiries."""

from __future__ import annotations

import binascii
import math
import time
from collections.abc import Sequence

from pydantic_core import from_json

from redis_preflight.contract.model import Herd

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


def herd_of(herd: Herd, expiries_ms: Sequence[int]) -> tuple[int, str] | None:
    """(keys, reason) when more than the policy's share of the keys expire within its window."""
    if len(expiries_ms) < herd.min_keys:
        return None
    window_ms = int(herd.window.total_seconds() * 1000)
    together, start = busiest_window(expiries_ms, window_ms)
    share = together / len(expiries_ms)
    if share <= herd.max_share:
        return None
    when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(start / 1000))
    window = f"{window_ms / 1000:g} s"
    return together, (
        f"{share:.0%} of {len(expiries_ms):,} keys with a TTL expire within {window} of {when} "
        f"(policy: at most {herd.max_share:.0%})"
    )
