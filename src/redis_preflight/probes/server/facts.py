"""The server's facts, each with what it means derived: memory, persistence, clients, replication, exposure.

The thresholds a check compares with live here, beside the facts they judge.
"""

from __future__ import annotations

from dataclasses import dataclass

# bind addresses that mean every interface ("-" marks an address as optional).
ALL_INTERFACES = {"*", "0.0.0.0", "::", "::*"}  # noqa: S104 (compared with, never bound)
MEMORY_ADVISORY = 0.80
MEMORY_BLOCKING = 0.95
CLIENTS_ADVISORY = 0.80
FRAGMENTATION_RATIO = 1.5
# Below this much waste a high ratio only means a small dataset (MEMORY DOCTOR ignores it too).
FRAGMENTATION_MIN_BYTES = 64 * 2**20
RECENT_RESTART_S = 3600
# repl-timeout's default: a primary silent for longer has gone.
PRIMARY_SILENCE_S = 60


def mib(size: float) -> str:
    return f"{size / 2**20:.1f} MiB"


def age(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.0f} min"


@dataclass(frozen=True)
class Memory:
    used: int
    maxmemory: int | None  # None: neither CONFIG GET nor INFO gave it
    policy: str | None
    evicted_keys: int
    fragmentation_ratio: float
    fragmentation_bytes: int

    @property
    def used_ratio(self) -> float | None:
        return self.used / self.maxmemory if self.maxmemory else None

    @property
    def nearly_full(self) -> bool:
        """Above MEMORY_BLOCKING of maxmemory: OOM or evictions are moments away."""
        return self.used_ratio is not None and self.used_ratio > MEMORY_BLOCKING

    @property
    def headroom_left(self) -> bool:
        return self.used_ratio is None or self.used_ratio <= MEMORY_ADVISORY

    @property
    def when_full(self) -> str:
        return "writes fail with OOM" if self.policy == "noeviction" else "keys are evicted"

    @property
    def fragmentation_matters(self) -> bool:
        return abs(self.fragmentation_bytes) >= FRAGMENTATION_MIN_BYTES

    @property
    def fragmented(self) -> bool:
        return self.fragmentation_ratio > FRAGMENTATION_RATIO

    @property
    def swapped(self) -> bool:
        """Less resident memory than data: the OS moved part of Redis to swap."""
        return self.fragmentation_ratio < 1.0


@dataclass(frozen=True)
class Persistence:
    save_rules: str | None  # CONFIG GET save; None when CONFIG GET is refused
    aof_enabled: bool
    rdb_ran_since_start: bool
    rdb_status: str
    aof_write_status: str
    aof_rewrite_status: str
    last_save_age_s: float
    changes_since_save: int
    bgsave_running_s: int | None
    aof_rewrite_running_s: int | None

    @property
    def rdb_enabled(self) -> bool | None:
        return None if self.save_rules is None else bool(self.save_rules.strip())

    @property
    def failed_statuses(self) -> tuple[str, ...]:
        """`rdb_last_bgsave_status:err`, ...: the saves whose last attempt failed."""
        return tuple(
            f"{field}:{status}"
            for field, status in (
                ("rdb_last_bgsave_status", self.rdb_status),
                ("aof_last_write_status", self.aof_write_status),
                ("aof_last_bgrewrite_status", self.aof_rewrite_status),
            )
            if status != "ok"
        )

    def at_risk(self, writes_refused: bool) -> str:
        """What a failed save really puts at risk: the AOF, when on and healthy, still keeps every write."""
        if writes_refused:
            return "the last save failed and the server refuses writes until one succeeds (see test_ping)"
        if self.aof_enabled and self.aof_write_status == "ok":
            return (
                "the last RDB snapshot failed; the append-only file still keeps every write, but the RDB "
                "backups are stale and a replica's full sync (which needs an RDB) will fail"
            )
        return "the last save failed, and Redis still takes writes that a restart would lose"

    def too_old(self, max_age_h: float) -> bool:
        """Changes not saved for longer than `max_age_h`: a crash now loses them."""
        return self.changes_since_save > 0 and self.last_save_age_s > max_age_h * 3600

    @property
    def in_progress(self) -> str:
        """ "; BGSAVE running for 3 s" when a save or rewrite is under way, else ""."""
        running = [
            f"{what} running for {seconds} s"
            for what, seconds in (
                ("BGSAVE", self.bgsave_running_s),
                ("AOF rewrite", self.aof_rewrite_running_s),
            )
            if seconds is not None
        ]
        return "; " + ", ".join(running) if running else ""


@dataclass(frozen=True)
class Clients:
    connected: int
    maxclients: int | None  # INFO has it from 7.0; before, only CONFIG GET
    blocked: int
    rejected: int
    uptime_s: int

    @property
    def used_ratio(self) -> float | None:
        return self.connected / self.maxclients if self.maxclients else None

    @property
    def headroom_left(self) -> bool:
        return self.used_ratio is None or self.used_ratio <= CLIENTS_ADVISORY

    @property
    def recently_restarted(self) -> bool:
        return self.uptime_s < RECENT_RESTART_S


@dataclass(frozen=True)
class Replication:
    role: str  # "primary" or "replica"
    primary: str  # host:port of this replica's primary
    link_up: bool
    link_down_s: int  # -1: the link was never up since start
    last_io_s: int
    replicas: tuple[str, ...]  # on a primary: "ip:port state lag=N"

    @property
    def link_down_for(self) -> str:
        return f"down for {self.link_down_s} s" if self.link_down_s >= 0 else "down since start"

    @property
    def primary_silent(self) -> bool:
        return self.last_io_s > PRIMARY_SILENCE_S


@dataclass(frozen=True)
class Exposure:
    protected_mode: str | None  # None when CONFIG GET is refused: INFO does not carry it
    bind: str | None

    @property
    def binds_everywhere(self) -> bool | None:
        """No bind (old servers listen everywhere) or a wildcard address; None: not known."""
        if self.bind is None:
            return None
        addresses = self.bind.split()
        return not addresses or any(a.lstrip("-") in ALL_INTERFACES for a in addresses)
