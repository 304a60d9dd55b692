"""A valid sample keyspace of the AI Goals Tracker's five key patterns (seed document).

It keeps the default contract (`goals_tracker.CONTRACT`): the ephemeral server is seeded with
it, and the tests build their defects on top of it.
"""

from __future__ import annotations

import base64
import json
import os
import time
import uuid
from datetime import UTC, datetime

import redis

HOUR = 3600


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(exp: int, subject: str = "user") -> str:
    """An (unverifiable) HS256-shaped JWT: the census only reads its `exp`."""
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = _b64(json.dumps({"sub": subject, "exp": exp}).encode())
    return f"{header}.{claims}.{_b64(os.urandom(32))}"


def sample_keyspace(users: int = 3) -> list[tuple[str, bytes, int]]:
    """(key, value, ttl seconds) triples that keep the contract."""
    now = datetime.now(UTC).isoformat()
    entries: list[tuple[str, bytes, int]] = []
    for n in range(users):
        user_id, goal_id, execution_id = (str(uuid.uuid4()) for _ in range(3))
        connection_id = f"ws_conn_{n}"
        session = {
            "connection_id": connection_id,
            "current_goal_id": goal_id,
            "current_task_id": None,
            "mood_score": 0.8,
            "last_activity": now,
        }
        connection = {"user_id": user_id, "connected_at": now, "ip": "127.0.0.1"}
        state = {
            "goal_id": goal_id,
            "user_id": user_id,
            "current_node": "nodo_4_feedback",
            "state_data": {"step": n},
            "history": [],
        }
        # A revoked token stays blacklisted a little longer than it stays valid.
        token = jwt(int(time.time()) + HOUR, user_id)
        entries += [
            (f"user_session:{user_id}", json.dumps(session).encode(), 24 * HOUR),
            (f"ws_connections:{connection_id}", json.dumps(connection).encode(), HOUR),
            (f"goal_state:{execution_id}", json.dumps(state).encode(), 24 * HOUR),
            (f"blacklist:{token}", b"1", HOUR + 60),
            (f"rate_limit:{user_id}", str(n + 1).encode(), 60),
        ]
    return entries


def seed(client: redis.Redis, users: int = 3) -> int:
    """Write the sample keyspace; only ever called on servers the verifier started itself."""
    entries = sample_keyspace(users)
    with client.pipeline(transaction=False) as pipe:
        for key, value, ttl in entries:
            pipe.set(key, value, ex=ttl)
        pipe.execute()
    return len(entries)
