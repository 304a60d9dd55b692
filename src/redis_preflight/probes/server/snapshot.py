"""What one server snapshot says, as typed facts: memory, persistence, clients, replication, exposure.

Every fact comes from INFO, or from CONFIG GET where INFO does not carry it; when CONFIG GET
is refused, a fact INFO lacks is None and the check that needs it skips.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from redis_preflight.errors import Diagnosis
from redis_preflight.probes.latency import SlowLog
from redis_preflight.probes.server.facts import Clients, Exposure, Memory, Persistence, Replication
from redis_preflight.probes.server.versions import ReleaseSupport, release_support


@dataclass(frozen=True)
class Blocked:
    """A command this server or this user refuses; checks that need it skip with this."""

    command: str
    diagnosis: Diagnosis

    def __str__(self) -> str:
        return f"{self.command} not available ({self.diagnosis})"


@dataclass(frozen=True)
class ServerSnapshot:
    """INFO (default sections), the CONFIG GET answers, and SLOWLOG GET 10, taken once per run."""

    info: Mapping[str, Any]
    config: Mapping[str, str]
    config_blocked: Blocked | None
    slowlog: SlowLog

    @property
    def slowlog_blocked(self) -> Blocked | None:
        refused = self.slowlog.refused
        return None if refused is None else Blocked("SLOWLOG GET", refused)

    def number(self, name: str, default: float = 0) -> Any:
        value = self.info.get(name, default)
        return value if isinstance(value, (int, float)) else default

    def setting(self, name: str, info_field: str | None = None) -> str | None:
        """A CONFIG GET answer, else the INFO field that carries the same fact, else None."""
        if name in self.config:
            return self.config[name]
        value = self.info.get(info_field) if info_field else None
        return None if value is None else str(value)

    @property
    def source(self) -> str:
        """Where settings came from, for messages."""
        return "CONFIG GET" if self.config_blocked is None else "INFO (CONFIG GET not available)"

    @property
    def via(self) -> str:
        """`; read from INFO (CONFIG GET not available)` when CONFIG GET was refused, else ""."""
        return "" if self.config_blocked is None else f"; read from {self.source}"

    def unread(self, setting: str) -> str:
        """Why a setting neither CONFIG GET nor INFO gave cannot be judged, naming what was missing."""
        missing = self.config_blocked or "CONFIG GET gave no answer"
        return f"{missing}: {setting} is not in INFO; check it in the provider's console"

    @property
    def is_redis(self) -> bool:
        return "redis_version" in self.info

    @property
    def support(self) -> ReleaseSupport:
        """Whether this version's release line still gets security fixes."""
        return release_support(self.version)

    @property
    def valkey_version(self) -> str | None:
        value = self.info.get("valkey_version")
        return None if value is None else str(value)

    @property
    def keys(self) -> int:
        """Keys in every db (INFO keyspace)."""
        dbs = [db for name, db in self.info.items() if name.startswith("db") and isinstance(db, dict)]
        return sum(int(db.get("keys", 0)) for db in dbs)

    @property
    def summary(self) -> str:
        """`1.2M used, 3 keys, 5 ops/s`: the snapshot at a glance."""
        used, ops = self.info.get("used_memory_human"), self.info.get("instantaneous_ops_per_sec")
        return f"{used} used, {self.keys} keys, {ops} ops/s"

    @property
    def now(self) -> float:
        """The server's clock (server_time_usec), so a skewed local clock cannot age a save."""
        usec = self.info.get("server_time_usec")
        return usec / 1e6 if isinstance(usec, int) else time.time()

    @property
    def version(self) -> str:
        return str(self.info.get("redis_version", "unknown"))

    @property
    def memory(self) -> Memory:
        return Memory(
            used=self.number("used_memory"),
            maxmemory=_integer(self.setting("maxmemory", "maxmemory")),
            policy=self.setting("maxmemory-policy", "maxmemory_policy"),
            evicted_keys=self.number("evicted_keys"),
            fragmentation_ratio=float(self.number("mem_fragmentation_ratio", 1.0)),
            fragmentation_bytes=self.number(
                "mem_fragmentation_bytes", self.number("used_memory_rss") - self.number("used_memory")
            ),
        )

    @property
    def persistence(self) -> Persistence:
        aof = self.setting("appendonly", "aof_enabled")
        return Persistence(
            save_rules=self.config.get("save"),
            aof_enabled=aof in ("yes", "1"),
            rdb_ran_since_start=self.number("rdb_last_bgsave_time_sec", -1) != -1,
            rdb_status=str(self.info.get("rdb_last_bgsave_status", "ok")),
            aof_write_status=str(self.info.get("aof_last_write_status", "ok")),
            aof_rewrite_status=str(self.info.get("aof_last_bgrewrite_status", "ok")),
            last_save_age_s=self.now - self.number("rdb_last_save_time", self.now),
            changes_since_save=self.number("rdb_changes_since_last_save"),
            bgsave_running_s=self._running("rdb_bgsave_in_progress", "rdb_current_bgsave_time_sec"),
            aof_rewrite_running_s=self._running("aof_rewrite_in_progress", "aof_current_rewrite_time_sec"),
        )

    def _running(self, flag: str, seconds: str) -> int | None:
        return max(self.number(seconds), 0) if self.number(flag) else None

    @property
    def clients(self) -> Clients:
        return Clients(
            connected=self.number("connected_clients"),
            maxclients=_integer(self.setting("maxclients", "maxclients")),
            blocked=self.number("blocked_clients"),
            rejected=self.number("rejected_connections"),
            uptime_s=self.number("uptime_in_seconds"),
        )

    @property
    def replication(self) -> Replication:
        replicas = tuple(
            f"{r.get('ip')}:{r.get('port')} {r.get('state')} lag={r.get('lag')}"
            for name, r in sorted(self.info.items())
            if name.startswith("slave") and name[5:].isdigit() and isinstance(r, dict)
        )
        return Replication(
            role="replica" if self.info.get("role") == "slave" else "primary",
            primary=f"{self.info.get('master_host', '?')}:{self.info.get('master_port', '?')}",
            link_up=self.info.get("master_link_status") == "up",
            link_down_s=self.number("master_link_down_since_seconds", -1),
            last_io_s=self.number("master_last_io_seconds_ago", -1),
            replicas=replicas,
        )

    @property
    def exposure(self) -> Exposure:
        return Exposure(self.config.get("protected-mode"), self.config.get("bind"))


def _integer(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() else None
