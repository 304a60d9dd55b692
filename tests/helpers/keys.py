"""Keyspaces for the keys tests: the valid sample, and each kind of defect on top of it.

Every key a defect adds breaks exactly one rule of one pattern, so a run's summary says which
check must fail and with which words.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import redis

from redis_preflight.contract.samples import jwt, seed

DAY = 86400
NOW = "2026-01-01T00:00:00+00:00"
SESSION = {
    "connection_id": "ws_conn_1",
    "current_goal_id": None,
    "current_task_id": None,
    "mood_score": 0.5,
    "last_activity": NOW,
}
CONNECTION = {"user_id": "6f1c2d1e-9a7b-4c3d-8e2f-1a2b3c4d5e6f", "connected_at": NOW, "ip": "::1"}
STATE = {
    "goal_id": "6f1c2d1e-9a7b-4c3d-8e2f-1a2b3c4d5e6f",
    "user_id": "6f1c2d1e-9a7b-4c3d-8e2f-1a2b3c4d5e6f",
    "current_node": "nodo_4_feedback",
    "state_data": {},
    "history": [],
}
BIG = 5 * 1024 * 1024


def client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=5)


def document(base: dict[str, object], **changes: object) -> bytes:
    """`base` with fields changed (a value of ... removes the field), as JSON."""
    merged = {**base, **changes}
    return json.dumps({k: v for k, v in merged.items() if v is not ...}).encode()


def seed_defects_a(r: redis.Redis) -> None:
    """Shape: missing field, wrong type, invalid JSON, not UTF-8. TTL: over max, none, short of a JWT."""
    seed(r)
    r.set("user_session:missing-field", document(SESSION, last_activity=...), ex=3600)
    r.set("user_session:too-long", document(SESSION), ex=30 * DAY)
    r.hset("ws_connections:as-hash", mapping={"user_id": "x"})
    r.expire("ws_connections:as-hash", 60)
    r.set("goal_state:bad-json", b'{"goal_id": ', ex=3600)
    r.set("goal_state:forever", document(STATE))
    r.set(f"blacklist:{jwt(int(time.time()) + 2 * 3600)}", b"1", ex=60)
    r.set("rate_limit:latin1", b"\xff\xfe", ex=60)


def seed_defects_b(r: redis.Redis) -> None:
    """Shape: mistyped and extra fields, a 5 MB value, a negative counter. TTL: none. Unmatched keys."""
    seed(r)
    r.set("user_session:mood", document(SESSION, mood_score=1.5), ex=3600)
    r.set("ws_connections:extra", document(CONNECTION, browser="firefox"), ex=60)
    r.set("goal_state:huge", document(STATE, history=["x" * BIG]), ex=3600)
    r.set("blacklist:revoked-opaque-token", b"1")
    r.set("rate_limit:negative", b"-1", ex=60)
    r.set("tmp:1", b"x")
    r.set("tmp:2", b"x")


@dataclass(frozen=True)
class Expected:
    """A check a defect must fail, its severity, and words its message must carry."""

    check: str
    severity: str
    words: str


EXPECTED_A = (
    Expected("test_shape[user_session]", "blocking", "missing field x1 (user_session:missing-field: "),
    Expected("test_ttl_bounds[user_session]", "blocking", "(user_session:too-long: TTL 30 d, above 7 d)"),
    Expected("test_shape[ws_connections]", "blocking", "wrong Redis type x1 (ws_connections:as-hash: a hash"),
    Expected("test_shape[goal_state]", "blocking", "invalid JSON x1 (goal_state:bad-json: Invalid JSON"),
    Expected("test_ttl[goal_state]", "advisory", "no TTL x1 (goal_state:forever: "),
    Expected("test_ttl_bounds[blacklist]", "blocking", "the revoked token is accepted again"),
    Expected(
        "test_shape[rate_limit]", "blocking", "not UTF-8 x1 (rate_limit:latin1: invalid UTF-8 at byte 0)"
    ),
)
EXPECTED_B = (
    Expected("test_shape[user_session]", "blocking", "mood_score: Input should be less than or equal to 1"),
    Expected(
        "test_shape[ws_connections]", "blocking", "unexpected field x1 (ws_connections:extra: browser: "
    ),
    Expected(
        "test_shape[goal_state]", "blocking", "value over the size cap, not fetched x1 (goal_state:huge: "
    ),
    Expected("test_ttl[blacklist]", "blocking", "no TTL x1 (blacklist:revoke...(20 chars): "),
    Expected("test_shape[rate_limit]", "blocking", "value: Input should be greater than or equal to 0"),
    Expected("test_unmatched_keys", "advisory", "2 scanned keys match no pattern of the contract (tmp:* 2)"),
)
