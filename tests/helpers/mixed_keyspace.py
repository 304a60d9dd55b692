"""A keyspace written the way applications write one, and one defect of each kind on top of it.

JSON strings (SET ... EX), hashes (HSET, no TTL), leaderboards (ZADD) and sliding-window rate
limits (ZADD + ZREMRANGEBYSCORE + EXPIRE), queues (LPUSH), event streams (XADD MAXLEN), counters
(INCR + EXPIRE) and a page cache whose keys mostly carry a TTL. Keys are written over "an hour"
of application time: their TTLs are spread, as a live server's are.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import redis

USERS = 200


def seed_mixed(r: redis.Redis, users: int = USERS) -> None:
    rng = random.Random(17)  # noqa: S311 - a repeatable keyspace, not a secret
    now_ms = int(time.time() * 1000)
    with r.pipeline(transaction=False) as pipe:
        for n in range(users):
            user_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            session = {
                "user_id": user_id,
                "created_at": datetime.now(UTC).isoformat(),
                "cart_items": rng.randint(0, 5),
                "premium": rng.random() < 0.3,
                "locale": rng.choice(["en", "es", None]),
            }
            pipe.set(f"session:{user_id}", json.dumps(session), ex=rng.randint(1800, 3600))
            profile = {"name": f"user {n}", "email": f"u{n}@example.com", "age": rng.randint(18, 90)}
            pipe.hset(f"user:{n}", mapping={**profile, "balance": f"{rng.random() * 100:.2f}"})
            pipe.incr(f"hits:{n}")
            pipe.expire(f"hits:{n}", rng.randint(60, 3600))
            page = f"cache:page:{rng.getrandbits(64):016x}"
            pipe.set(page, f"<html>{n}</html>", ex=rng.randint(300, 900) if n % 25 else None)
        for board in range(10):
            pipe.zadd(
                f"leaderboard:{board}", {f"user:{n}": rng.randint(0, 9000) for n in range(rng.randint(5, 60))}
            )
        for _ in range(40):
            key = f"ratelimit:{uuid.UUID(int=rng.getrandbits(128), version=4)}"
            hits = {
                f"{now_ms - i * 500}-{rng.getrandbits(16)}": now_ms - i * 500
                for i in range(rng.randint(1, 20))
            }
            pipe.zadd(key, hits)
            pipe.zremrangebyscore(key, 0, now_ms - 60_000)
            pipe.expire(key, rng.randint(60, 120))
        for name in ("emails", "reports", "webhooks"):
            jobs = [
                json.dumps({"job_id": str(uuid.uuid4()), "attempts": rng.randint(0, 3)}) for _ in range(30)
            ]
            pipe.lpush(f"queue:{name}", *jobs)
        for n in range(5):
            for _ in range(rng.randint(1, 30)):
                event = {"type": rng.choice(["login", "logout"]), "user_id": str(rng.randint(1, users))}
                pipe.xadd(f"events:{n}", event, maxlen=1000, approximate=True)
        pipe.execute()


@dataclass(frozen=True)
class Defect:
    check: str  # the check that must fail, e.g. "test_shape[user]"
    words: str  # what its one line must say


DEFECTS = (
    Defect("test_shape[queue]", "wrong Redis type x1 (queue:orphans: a string, not a list)"),
    Defect("test_shape[user]", "missing field x1 (user:100000: email: field required)"),
    Defect("test_shape[session]", "cart_items: Input should be a valid integer"),
    Defect("test_shape[leaderboard]", "5,000 members, above the maximum of 100"),
    Defect("test_ttl[cache.page]", "carry a TTL, under the 96.00% the policy asks"),
    Defect("test_shape[ratelimit]", "score -1 below the minimum 0"),
    Defect("test_ttl_bounds[session]", "keys with a TTL expire within 5 s of"),
)


def plant_defects(r: redis.Redis) -> None:
    """One defect of each kind, each in a pattern of its own (session has two, in two rules)."""
    r.set("queue:orphans", "not a list")
    r.hset("user:100000", mapping={"name": "no email", "age": 30, "balance": "1.00"})
    session = {"user_id": str(uuid.uuid4()), "created_at": datetime.now(UTC).isoformat(), "cart_items": "3"}
    r.set(f"session:{uuid.uuid4()}", json.dumps({**session, "premium": False, "locale": "en"}), ex=2000)
    r.zadd("leaderboard:99", {f"user:{n}": n for n in range(5000)})
    for n in range(40):
        r.set(f"cache:page:{n:016x}", "<html/>")
    limit = f"ratelimit:{uuid.uuid4()}"
    r.zadd(limit, {"early": -1})
    r.expire(limit, 90)
    with r.pipeline(transaction=False) as pipe:  # a cache warm-up: all at once, one TTL
        for _ in range(300):
            session = {**session, "user_id": str(uuid.uuid4()), "cart_items": 0}
            pipe.set(
                f"session:{uuid.uuid4()}", json.dumps({**session, "premium": True, "locale": None}), ex=3000
            )
        pipe.execute()
