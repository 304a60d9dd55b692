"""Server: memory, eviction, persistence, clients, replication, exposure and version, from one snapshot."""

import pytest

from redis_preflight.config.profiles import Profile, Severity
from redis_preflight.probes.server.facts import (
    CLIENTS_ADVISORY,
    FRAGMENTATION_RATIO,
    MEMORY_ADVISORY,
    PRIMARY_SILENCE_S,
    age,
    mib,
)
from redis_preflight.probes.server.versions import supported_lines
from redis_preflight.verdict.outcomes import not_applicable, unverified

pytestmark = pytest.mark.area("server")

REMOTE_ONLY = "local profile: {} is checked on remote and production (--profile remote)"


@pytest.mark.severity("advisory")
def test_memory_headroom(preflight, server_snapshot, finding):
    memory, via = server_snapshot.memory, server_snapshot.via
    if memory.maxmemory is None:
        unverified(server_snapshot.unread("maxmemory"))
    if memory.used_ratio is None:
        assert preflight.profile is Profile.LOCAL, (
            f"{mib(memory.used)} used and no maxmemory on a {preflight.profile} server: Redis grows "
            f"until the OS kills it; set maxmemory to about 75 % of the machine's memory{via}"
        )
        finding.observed(f"{mib(memory.used)} used, no maxmemory (fine on a local server){via}")
        return
    if memory.nearly_full:
        finding.escalate(Severity.BLOCKING)
    assert memory.headroom_left, (
        f"{mib(memory.used)} used of maxmemory {mib(memory.maxmemory)} ({memory.used_ratio:.0%}), "
        f"expected under {MEMORY_ADVISORY:.0%}: at 100 % {memory.when_full}; raise maxmemory or find "
        f"what grows (INFO keyspace, redis-cli --bigkeys){via}"
    )
    finding.observed(
        f"{mib(memory.used)} used of maxmemory {mib(memory.maxmemory)} ({memory.used_ratio:.0%}){via}"
    )


@pytest.mark.severity("advisory", production="blocking")
def test_eviction_policy(server_snapshot, finding):
    memory, via = server_snapshot.memory, server_snapshot.via
    if memory.policy is None:
        unverified(server_snapshot.unread("maxmemory-policy"))
    if memory.policy != "noeviction" and not memory.maxmemory:
        finding.observed(f"maxmemory-policy {memory.policy} but no maxmemory: nothing is evicted today")
        return
    with_ttl = (
        " (they carry TTLs, so volatile-* policies pick them too)" if "volatile" in memory.policy else ""
    )
    assert memory.policy == "noeviction", (
        f"maxmemory-policy {memory.policy} can evict blacklist:* keys when memory is full{with_ttl}, and "
        "a revoked token works again; expected noeviction (the trade-off: writes then fail with OOM "
        f"instead, so give maxmemory headroom){via}"
    )
    finding.observed(f"maxmemory-policy noeviction: nothing is evicted{via}")


@pytest.mark.severity("advisory")
def test_no_evictions(server_snapshot, finding):
    evicted = server_snapshot.memory.evicted_keys
    uptime = age(server_snapshot.clients.uptime_s)
    assert evicted == 0, (
        f"{evicted} keys evicted in {uptime} since start: memory was full and keys (blacklist:* among "
        "the candidates) were dropped; raise maxmemory and check maxmemory-policy"
    )
    finding.observed(f"no key evicted in {uptime} since start")


def providers_to_set(hosting, setting, guarantee, missing):
    """On a managed service, a setting it keeps to itself: not applicable, with what it guarantees."""
    __tracebackhide__ = True
    if hosting.provider is not None:
        provider = hosting.provider
        not_applicable(f"{setting} is {provider}'s to set: {getattr(provider, guarantee)} ({missing})")


@pytest.mark.severity("advisory", production="blocking")
def test_persistence_enabled(preflight, server_snapshot, hosting, finding):
    if preflight.profile is Profile.LOCAL:
        not_applicable(REMOTE_ONLY.format("persistence"))
    persistence, via = server_snapshot.persistence, server_snapshot.via
    if persistence.aof_enabled:
        finding.observed(f"AOF on: every write is logged{via}")
        return
    if persistence.rdb_enabled is None:
        if not persistence.rdb_ran_since_start:
            providers_to_set(hosting, "persistence", "persistence", server_snapshot.config_blocked)
            unverified(
                f"{server_snapshot.config_blocked}: the save rules cannot be read, and INFO shows AOF "
                "off and no RDB snapshot since start; check backups in the provider's console"
            )
        finding.observed(f"RDB snapshots are taken (INFO: a BGSAVE ran since start){via}")
        return
    assert persistence.rdb_enabled, (
        'neither RDB snapshots (save "") nor AOF (appendonly no): a restart loses every key, the '
        "token blacklist included; set appendonly yes, or save rules such as save 3600 1 300 100"
    )
    finding.observed(f"RDB snapshots: save {persistence.save_rules}; AOF off")


@pytest.mark.severity("advisory", production="blocking")
def test_last_save_succeeded(reachability, server_snapshot, finding):
    persistence = server_snapshot.persistence
    if reachability.writes_refused:
        # The refused writes are the one blocking finding (test_ping); this one says what failed.
        finding.escalate(Severity.ADVISORY)
    at_risk = persistence.at_risk(reachability.writes_refused)
    assert not persistence.failed_statuses, (
        f"{', '.join(persistence.failed_statuses)}: {at_risk}; check disk space and that 'dir' is "
        "writable (the server log says why), then BGSAVE"
    )
    finding.observed(f"last BGSAVE and AOF writes ok{persistence.in_progress}")


@pytest.mark.severity("advisory", production="blocking")
def test_last_save_recent(preflight, server_snapshot, finding):
    if preflight.profile is Profile.LOCAL:
        not_applicable(REMOTE_ONLY.format("the age of the last save"))
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
    assert not persistence.too_old(limit_h), (
        f"last successful save {last} ago with {persistence.changes_since_save} changes since, expected "
        f"under {limit_h:g} h (--max-save-age): a crash now loses them; check the save rules and the "
        "server log for failed BGSAVEs"
    )
    finding.observed(f"last save {last} ago{persistence.in_progress}")


@pytest.mark.severity("advisory")
def test_client_headroom(server_snapshot, finding):
    clients = server_snapshot.clients
    if clients.maxclients is None:
        unverified(server_snapshot.unread("maxclients (INFO has it from Redis 7.0)"))
    assert clients.headroom_left, (
        f"{clients.connected} clients connected of maxclients {clients.maxclients} "
        f"({clients.used_ratio:.0%}), expected under {CLIENTS_ADVISORY:.0%}: new connections are refused "
        "at 100 %; look for a connection leak (CLIENT LIST, the application's pool size) or raise maxclients"
    )
    finding.observed(
        f"{clients.connected} of {clients.maxclients} clients ({clients.used_ratio:.0%}), "
        f"{clients.blocked} blocked{server_snapshot.via}"
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
    if not memory.fragmentation_matters:
        finding.observed(f"mem_fragmentation_ratio {ratio:.2f} over {mib(waste)}: too little to matter")
        return
    assert not memory.fragmented, (
        f"mem_fragmentation_ratio {ratio:.2f} ({mib(waste)} of RSS beyond the data), expected under "
        f"{FRAGMENTATION_RATIO}: set activedefrag yes, or restart in a quiet hour"
    )
    assert not memory.swapped, (
        f"mem_fragmentation_ratio {ratio:.2f}: less resident memory than data, so the OS swapped "
        "part of Redis out and latency suffers; give the machine more memory or lower maxmemory"
    )
    finding.observed(f"mem_fragmentation_ratio {ratio:.2f}")


@pytest.mark.severity("advisory")
def test_recent_restart(preflight, server_snapshot, finding):
    if preflight.profile is Profile.LOCAL:
        not_applicable(REMOTE_ONLY.format("a recent restart"))
    clients = server_snapshot.clients
    assert not clients.recently_restarted, (
        f"restarted {age(clients.uptime_s)} ago, expected up for over an hour: if nobody restarted it, "
        "look for a crash or an OOM kill in the server log (and dmesg)"
    )
    finding.observed(f"up for {age(clients.uptime_s)}")


@pytest.mark.severity("blocking")
def test_replication_link(server_snapshot, finding):
    replication = server_snapshot.replication
    if replication.role == "primary":
        replicas = f": {'; '.join(replication.replicas)}" if replication.replicas else ""
        finding.observed(f"primary with {len(replication.replicas)} connected replica(s){replicas}")
        return
    assert replication.link_up, (
        f"replica of {replication.primary} with its link {replication.link_down_for}: it serves stale "
        "data and takes no writes; check the primary is up and reachable from the replica (the "
        "replica's log says why)"
    )
    assert not replication.primary_silent, (
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


@pytest.mark.severity("advisory", remote="blocking", production="blocking")
def test_protected_mode(server_snapshot, anonymous, hosting, finding):
    if anonymous.allowed is None:
        unverified(f"cannot tell whether clients without credentials are served: {anonymous.seen}")
    if anonymous.refused:
        finding.observed(f"authentication required ({anonymous.seen})")
        return
    mode = server_snapshot.exposure.protected_mode
    if mode is None:
        providers_to_set(hosting, "protected-mode", "exposure", server_snapshot.config_blocked)
        unverified(server_snapshot.unread("protected-mode"))
    assert mode == "yes", (
        f"protected-mode no and no authentication ({anonymous.seen}): anyone who reaches the port can "
        "read, change or wipe the data; set requirepass (or ACL users) and protected-mode yes"
    )
    finding.observed(f"protected-mode yes; no authentication ({anonymous.seen})")


@pytest.mark.severity("advisory", remote="blocking", production="blocking")
def test_bind_interfaces(server_snapshot, anonymous, hosting, finding):
    if anonymous.allowed is None:
        unverified(f"cannot tell whether clients without credentials are served: {anonymous.seen}")
    if anonymous.refused:
        finding.observed(f"authentication required ({anonymous.seen})")
        return
    exposure = server_snapshot.exposure
    if exposure.bind is None:
        providers_to_set(hosting, "bind", "exposure", server_snapshot.config_blocked)
        unverified(server_snapshot.unread("bind"))
    assert not exposure.binds_everywhere, (
        f"bind {exposure.bind!r} listens on every interface and no authentication is required "
        f"({anonymous.seen}); set requirepass (or ACL users) and bind only the interfaces the "
        "application uses"
    )
    finding.observed(f"bind {exposure.bind}; no authentication ({anonymous.seen})")


@pytest.mark.severity("advisory")
def test_version_supported(server_snapshot, server_identity, hosting, finding):
    version = server_snapshot.version
    provider = hosting.name or server_identity.provider
    if provider:
        finding.observed(f"redis {version} on {provider}: the provider's support calendar applies")
        return
    if server_snapshot.valkey_version:
        not_applicable(f"Valkey {server_snapshot.valkey_version}: the release list covers Redis only")
    support = server_snapshot.support
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
    assert server_snapshot.is_redis, "INFO has no redis_version: is this Redis?"
    evidence.append(snapshot_html)
    finding.observed(f"snapshot in report.html: {server_snapshot.summary}, {server_snapshot.slowlog}")
