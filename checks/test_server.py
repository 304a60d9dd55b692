"""Server: memory, eviction, persistence, clients, replication, exposure and version, from one snapshot."""

import pytest

from redis_preflight.config.profiles import Profile, Severity
from redis_preflight.probes.server.versions import release_support, supported_lines
from redis_preflight.verdict.outcomes import not_applicable, unverified

pytestmark = pytest.mark.area("server")

MEMORY_ADVISORY = 0.80
MEMORY_BLOCKING = 0.95
CLIENTS_ADVISORY = 0.80
FRAGMENTATION_RATIO = 1.5
# Below this much waste a high ratio only means a small dataset (MEMORY DOCTOR ignores it too).
FRAGMENTATION_MIN_BYTES = 64 * 2**20
RECENT_RESTART_S = 3600
# repl-timeout's default: a primary silent for longer has gone.
PRIMARY_SILENCE_S = 60


def skip_on_local(preflight, what):
    __tracebackhide__ = True
    if preflight.profile is Profile.LOCAL:
        not_applicable(f"local profile: {what} is checked on remote and production (--profile remote)")


def mib(size):
    return f"{size / 2**20:.1f} MiB"


def age(seconds):
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.0f} min"


def via(snapshot):
    """Say where settings came from when CONFIG GET was refused."""
    return "" if snapshot.config_blocked is None else f"; read from {snapshot.source}"


def skip_if_unread(value, setting, snapshot):
    """A setting neither CONFIG GET nor INFO gave cannot be judged: say which command was missing."""
    __tracebackhide__ = True
    if value is None:
        missing = snapshot.config_blocked or "CONFIG GET gave no answer"
        unverified(f"{missing}: {setting} is not in INFO; check it in the provider's console")


@pytest.mark.severity("advisory")
def test_memory_headroom(preflight, server_snapshot, finding):
    memory = server_snapshot.memory
    skip_if_unread(memory.maxmemory, "maxmemory", server_snapshot)
    if memory.used_ratio is None:
        assert preflight.profile is Profile.LOCAL, (
            f"{mib(memory.used)} used and no maxmemory on a {preflight.profile} server: Redis grows "
            "until the OS kills it; set maxmemory to about 75 % of the machine's memory"
            f"{via(server_snapshot)}"
        )
        finding.observed(
            f"{mib(memory.used)} used, no maxmemory (fine on a local server){via(server_snapshot)}"
        )
        return
    if memory.used_ratio > MEMORY_BLOCKING:
        finding.escalate(Severity.BLOCKING)
    at_full = "writes fail with OOM" if memory.policy == "noeviction" else "keys are evicted"
    assert memory.used_ratio <= MEMORY_ADVISORY, (
        f"{mib(memory.used)} used of maxmemory {mib(memory.maxmemory)} ({memory.used_ratio:.0%}), "
        f"expected under {MEMORY_ADVISORY:.0%}: at 100 % {at_full}; raise maxmemory or find what "
        f"grows (INFO keyspace, redis-cli --bigkeys){via(server_snapshot)}"
    )
    finding.observed(
        f"{mib(memory.used)} used of maxmemory {mib(memory.maxmemory)} "
        f"({memory.used_ratio:.0%}){via(server_snapshot)}"
    )


@pytest.mark.severity("advisory", production="blocking")
def test_eviction_policy(server_snapshot, finding):
    memory = server_snapshot.memory
    skip_if_unread(memory.policy, "maxmemory-policy", server_snapshot)
    if memory.policy != "noeviction" and not memory.maxmemory:
        finding.observed(f"maxmemory-policy {memory.policy} but no maxmemory: nothing is evicted today")
        return
    with_ttl = (
        " (they carry TTLs, so volatile-* policies pick them too)" if "volatile" in memory.policy else ""
    )
    assert memory.policy == "noeviction", (
        f"maxmemory-policy {memory.policy} can evict blacklist:* keys when memory is full{with_ttl}, and "
        "a revoked token works again; expected noeviction (the trade-off: writes then fail with OOM "
        f"instead, so give maxmemory headroom){via(server_snapshot)}"
    )
    finding.observed(f"maxmemory-policy noeviction: nothing is evicted{via(server_snapshot)}")


@pytest.mark.severity("advisory")
def test_no_evictions(server_snapshot, finding):
    evicted = server_snapshot.memory.evicted_keys
    uptime = age(server_snapshot.clients.uptime_s)
    assert evicted == 0, (
        f"{evicted} keys evicted in {uptime} since start: memory was full and keys (blacklist:* among "
        "the candidates) were dropped; raise maxmemory and check maxmemory-policy"
    )
    finding.observed(f"no key evicted in {uptime} since start")


@pytest.mark.severity("advisory", production="blocking")
def test_persistence_enabled(preflight, server_snapshot, finding):
    skip_on_local(preflight, "persistence")
    persistence = server_snapshot.persistence
    if persistence.aof_enabled:
        finding.observed(f"AOF on: every write is logged{via(server_snapshot)}")
        return
    if persistence.rdb_enabled is None:
        if not persistence.rdb_ran_since_start:
            unverified(
                f"{server_snapshot.config_blocked}: the save rules cannot be read, and INFO shows AOF "
                "off and no RDB snapshot since start; check backups in the provider's console"
            )
        finding.observed(f"RDB snapshots are taken (INFO: a BGSAVE ran since start){via(server_snapshot)}")
        return
    assert persistence.rdb_enabled, (
        'neither RDB snapshots (save "") nor AOF (appendonly no): a restart loses every key, the '
        "token blacklist included; set appendonly yes, or save rules such as save 3600 1 300 100"
    )
    finding.observed(f"RDB snapshots: save {persistence.save_rules}; AOF off")


@pytest.mark.severity("advisory", production="blocking")
def test_last_save_succeeded(reachability, server_snapshot, finding):
    persistence = server_snapshot.persistence
    failed = [
        f"{field}:{status}"
        for field, status in (
            ("rdb_last_bgsave_status", persistence.rdb_status),
            ("aof_last_write_status", persistence.aof_write_status),
            ("aof_last_bgrewrite_status", persistence.aof_rewrite_status),
        )
        if status != "ok"
    ]
    refused = reachability.handshake is not None and reachability.handshake.refused_writes is not None
    if refused:
        # The refused writes are the one blocking finding (test_ping); this one says what failed.
        finding.escalate(Severity.ADVISORY)
    assert not failed, (
        f"{', '.join(failed)}: {at_risk(persistence, refused)}; check disk space and that 'dir' is "
        "writable (the server log says why), then BGSAVE"
    )
    finding.observed(f"last BGSAVE and AOF writes ok{persistence.in_progress}")


def at_risk(persistence, refused):
    """What a failed save really puts at risk: the AOF, when on and healthy, still keeps every write."""
    if refused:
        return "the last save failed and the server refuses writes until one succeeds (see test_ping)"
    if persistence.aof_enabled and persistence.aof_write_status == "ok":
        return (
            "the last RDB snapshot failed; the append-only file still keeps every write, but the RDB "
            "backups are stale and a replica's full sync (which needs an RDB) will fail"
        )
    return "the last save failed, and Redis still takes writes that a restart would lose"


@pytest.mark.severity("advisory", production="blocking")
def test_last_save_recent(preflight, server_snapshot, finding):
    skip_on_local(preflight, "the age of the last save")
    persistence = server_snapshot.persistence
    if persistence.aof_enabled:
        finding.observed(f"AOF on: writes are logged as they happen{persistence.in_progress}")
        return
    if persistence.rdb_enabled is False:
        not_applicable("no RDB snapshots and no AOF: nothing is saved (see test_persistence_enabled)")
    last = age(persistence.last_save_age_s)
    if persistence.changes_since_save == 0:
        finding.observed(f"last save {last} ago, no change since{persistence.in_progress}")
        return
    limit_h = preflight.settings.max_save_age
    assert persistence.last_save_age_s <= limit_h * 3600, (
        f"last successful save {last} ago with {persistence.changes_since_save} changes since, expected "
        f"under {limit_h:g} h (--max-save-age): a crash now loses them; check the save rules and the "
        "server log for failed BGSAVEs"
    )
    finding.observed(f"last save {last} ago{persistence.in_progress}")


@pytest.mark.severity("advisory")
def test_client_headroom(server_snapshot, finding):
    clients = server_snapshot.clients
    skip_if_unread(clients.maxclients, "maxclients (INFO has it from Redis 7.0)", server_snapshot)
    assert clients.used_ratio <= CLIENTS_ADVISORY, (
        f"{clients.connected} clients connected of maxclients {clients.maxclients} "
        f"({clients.used_ratio:.0%}), expected under {CLIENTS_ADVISORY:.0%}: new connections are refused "
        "at 100 %; look for a connection leak (CLIENT LIST, the application's pool size) or raise maxclients"
    )
    finding.observed(
        f"{clients.connected} of {clients.maxclients} clients ({clients.used_ratio:.0%}), "
        f"{clients.blocked} blocked{via(server_snapshot)}"
    )


@pytest.mark.severity("advisory")
def test_rejected_connections(server_snapshot, finding):
    clients = server_snapshot.clients
    assert clients.rejected == 0, (
        f"{clients.rejected} connections rejected since start (maxclients {clients.maxclients} "
        "reached): clients got 'max number of clients reached'; look for a connection leak or raise "
        "maxclients"
    )
    finding.observed("no connection rejected since start")


@pytest.mark.severity("advisory")
def test_memory_fragmentation(server_snapshot, finding):
    memory = server_snapshot.memory
    ratio, waste = memory.fragmentation_ratio, memory.fragmentation_bytes
    if abs(waste) < FRAGMENTATION_MIN_BYTES:
        finding.observed(f"mem_fragmentation_ratio {ratio:.2f} over {mib(waste)}: too little to matter")
        return
    assert ratio <= FRAGMENTATION_RATIO, (
        f"mem_fragmentation_ratio {ratio:.2f} ({mib(waste)} of RSS beyond the data), expected under "
        f"{FRAGMENTATION_RATIO}: set activedefrag yes, or restart in a quiet hour"
    )
    assert ratio >= 1.0, (
        f"mem_fragmentation_ratio {ratio:.2f}: less resident memory than data, so the OS swapped "
        "part of Redis out and latency suffers; give the machine more memory or lower maxmemory"
    )
    finding.observed(f"mem_fragmentation_ratio {ratio:.2f}")


@pytest.mark.severity("advisory")
def test_recent_restart(preflight, server_snapshot, finding):
    skip_on_local(preflight, "a recent restart")
    uptime = server_snapshot.clients.uptime_s
    assert uptime >= RECENT_RESTART_S, (
        f"restarted {age(uptime)} ago, expected up for over an hour: if nobody restarted it, look for "
        "a crash or an OOM kill in the server log (and dmesg)"
    )
    finding.observed(f"up for {age(uptime)}")


@pytest.mark.severity("blocking")
def test_replication_link(server_snapshot, finding):
    replication = server_snapshot.replication
    if replication.role == "primary":
        replicas = f": {'; '.join(replication.replicas)}" if replication.replicas else ""
        finding.observed(f"primary with {len(replication.replicas)} connected replica(s){replicas}")
        return
    down = f"down for {replication.link_down_s} s" if replication.link_down_s >= 0 else "down since start"
    assert replication.link_up, (
        f"replica of {replication.primary} with its link {down}: it serves stale data and takes no "
        "writes; check the primary is up and reachable from the replica (the replica's log says why)"
    )
    assert replication.last_io_s <= PRIMARY_SILENCE_S, (
        f"replica of {replication.primary}: nothing from the primary for {replication.last_io_s} s, "
        f"expected under {PRIMARY_SILENCE_S} s; check the primary and the network between them"
    )
    finding.observed(
        f"replica of {replication.primary}, link up, last I/O {replication.last_io_s} s ago; "
        "the application's writes must go to the primary"
    )


@pytest.mark.severity("blocking")
def test_writes_reach_primary(preflight, server_snapshot, finding):
    if not preflight.contract.patterns:
        not_applicable("the key contract names no key the application writes")
    replication = server_snapshot.replication
    if replication.role == "primary":
        finding.observed("the target is a primary: it takes the application's writes")
        return
    assert preflight.settings.read_only_target, (
        f"the target is a read-only replica of {replication.primary}: every write the application makes "
        f"(the contract's {', '.join(preflight.contract.names)} keys) gets READONLY; point REDIS_URL at "
        f"the primary (redis://{replication.primary}/{preflight.target.db}), or give --read-only-target "
        "if the application only reads here"
    )
    finding.observed(f"replica of {replication.primary}, declared read-only (--read-only-target)")


def needs_credentials(anonymous, finding):
    """True when clients without credentials are refused: then nothing is exposed."""
    __tracebackhide__ = True
    if anonymous.allowed is None:
        unverified(f"cannot tell whether clients without credentials are served: {anonymous.seen}")
    if not anonymous.allowed:
        finding.observed(f"authentication required ({anonymous.seen})")
    return not anonymous.allowed


@pytest.mark.severity("advisory", remote="blocking", production="blocking")
def test_protected_mode(server_snapshot, anonymous, finding):
    if needs_credentials(anonymous, finding):
        return
    mode = server_snapshot.exposure.protected_mode
    skip_if_unread(mode, "protected-mode", server_snapshot)
    assert mode == "yes", (
        f"protected-mode no and no authentication ({anonymous.seen}): anyone who reaches the port can "
        "read, change or wipe the data; set requirepass (or ACL users) and protected-mode yes"
    )
    finding.observed(f"protected-mode yes; no authentication ({anonymous.seen})")


@pytest.mark.severity("advisory", remote="blocking", production="blocking")
def test_bind_interfaces(server_snapshot, anonymous, finding):
    if needs_credentials(anonymous, finding):
        return
    exposure = server_snapshot.exposure
    skip_if_unread(exposure.bind, "bind", server_snapshot)
    assert not exposure.binds_everywhere, (
        f"bind {exposure.bind!r} listens on every interface and no authentication is required "
        f"({anonymous.seen}); set requirepass (or ACL users) and bind only the interfaces the "
        "application uses"
    )
    finding.observed(f"bind {exposure.bind}; no authentication ({anonymous.seen})")


@pytest.mark.severity("advisory")
def test_version_supported(server_snapshot, server_identity, finding):
    version = server_snapshot.version
    if server_identity.provider:
        finding.observed(
            f"redis {version} on {server_identity.provider}: the provider's support calendar applies"
        )
        return
    if "valkey_version" in server_snapshot.info:
        not_applicable(f"Valkey {server_snapshot.info['valkey_version']}: the release list covers Redis only")
    support = release_support(version)
    if support.line == "?":
        unverified(f"redis_version {version!r} is not a version the release list can place")
    ended = f" on {support.ended}" if support.ended else ""
    assert support.supported is not False, (
        f"redis {version}: release line {support.line} stopped getting security fixes{ended} (list of "
        f"{support.checked}); upgrade to a line still supported: {supported_lines()}"
    )
    status = "gets security fixes" if support.supported else "is newer than the list"
    finding.observed(f"redis {version}: release line {support.line} {status} (list of {support.checked})")


@pytest.mark.severity("advisory")
def test_server_snapshot(server_snapshot, snapshot_html, evidence, finding):
    info = server_snapshot.info
    assert "redis_version" in info, "INFO has no redis_version: is this Redis?"
    evidence.append(snapshot_html)
    keys = sum(
        db.get("keys", 0) for name, db in info.items() if name.startswith("db") and isinstance(db, dict)
    )
    slow = server_snapshot.slowlog_blocked or f"{len(server_snapshot.slowlog)} slow commands logged"
    finding.observed(
        f"snapshot in report.html: {info.get('used_memory_human')} used, {keys} keys, "
        f"{info.get('instantaneous_ops_per_sec')} ops/s, {slow}"
    )
