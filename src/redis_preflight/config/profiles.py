"""Profiles: how strict the verdict is, and the budgets that go with each environment."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from redis_preflight.config.target import Target


class Profile(StrEnum):
    LOCAL = "local"
    REMOTE = "remote"
    PRODUCTION = "production"


class Severity(StrEnum):
    BLOCKING = "blocking"
    ADVISORY = "advisory"


@dataclass(frozen=True)
class Budgets:
    """Thresholds a profile sets by default; every one can be overridden."""

    latency_p50_ms: float
    latency_p99_ms: float
    # The health endpoint's whole answer: it asks Redis (and RabbitMQ) itself, over its network.
    health_ms: float
    # Redis's own slowlog-log-slower-than default (10 ms): a command that slow blocks every client.
    slowlog_threshold_ms: float = 10.0


# The seed document's table: local under 1 ms, remote 10 to 50 ms.
BUDGETS = {
    Profile.LOCAL: Budgets(latency_p50_ms=1.0, latency_p99_ms=5.0, health_ms=500.0),
    Profile.REMOTE: Budgets(latency_p50_ms=50.0, latency_p99_ms=100.0, health_ms=1000.0),
    Profile.PRODUCTION: Budgets(latency_p50_ms=50.0, latency_p99_ms=100.0, health_ms=1000.0),
}

# Replicas each cluster (or Sentinel) primary must have, unless --min-replicas says otherwise:
# production wants a copy to fail over to; elsewhere a lone primary is normal.
MIN_REPLICAS = {Profile.LOCAL: 0, Profile.REMOTE: 0, Profile.PRODUCTION: 1}


def infer_profile(target: Target) -> tuple[Profile, str]:
    """The profile for a target nobody chose one for, and why."""
    if target.is_unix:
        return Profile.LOCAL, "inferred: unix socket"
    if target.is_loopback:
        return Profile.LOCAL, "inferred: loopback address"
    return Profile.REMOTE, "inferred: not a loopback address"
