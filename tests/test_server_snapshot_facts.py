"""The server snapshot's derived facts, from INFO and CONFIG GET replies as Redis gives them."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from redis_preflight.probes.latency import SlowLog
from redis_preflight.probes.server.snapshot import ServerSnapshot

MIB = 2**20


def snapshot(info: dict, config: dict | None = None) -> ServerSnapshot:
    return ServerSnapshot(MappingProxyType(info), MappingProxyType(config or {}), None, SlowLog())


@pytest.mark.parametrize(
    ("used", "headroom_left", "nearly_full"), [(80, True, False), (81, False, False), (96, False, True)]
)
def test_memory_headroom_thresholds(used, headroom_left, nearly_full):
    memory = snapshot({"used_memory": used * MIB}, {"maxmemory": str(100 * MIB)}).memory
    assert (memory.headroom_left, memory.nearly_full) == (headroom_left, nearly_full)


def test_no_maxmemory_leaves_headroom_unjudged():
    memory = snapshot({"used_memory": 10 * MIB}, {"maxmemory": "0"}).memory
    assert (memory.used_ratio, memory.headroom_left, memory.nearly_full) == (None, True, False)


@pytest.mark.parametrize(
    ("ratio", "waste", "matters", "fragmented", "swapped"),
    [
        (3.0, 10 * MIB, False, True, False),
        (1.6, 100 * MIB, True, True, False),
        (0.8, -80 * MIB, True, False, True),
    ],
)
def test_fragmentation_counts_only_with_enough_at_stake(ratio, waste, matters, fragmented, swapped):
    memory = snapshot({"mem_fragmentation_ratio": ratio, "mem_fragmentation_bytes": waste}).memory
    assert (memory.fragmentation_matters, memory.fragmented, memory.swapped) == (matters, fragmented, swapped)


def test_save_age_is_on_the_servers_clock_and_needs_changes():
    now = 1_700_000_000
    info = {"server_time_usec": now * 10**6, "rdb_last_save_time": now - 25 * 3600}
    assert snapshot({**info, "rdb_changes_since_last_save": 3}).persistence.too_old(24)
    assert not snapshot({**info, "rdb_changes_since_last_save": 0}).persistence.too_old(24)
    assert not snapshot({**info, "rdb_changes_since_last_save": 3}).persistence.too_old(26)


def test_failed_saves_are_named():
    info = {"rdb_last_bgsave_status": "err", "aof_last_write_status": "ok"}
    assert snapshot(info).persistence.failed_statuses == ("rdb_last_bgsave_status:err",)


def test_settings_fall_back_to_info_and_say_so():
    info = {"maxmemory": 0, "maxmemory_policy": "allkeys-lru", "db0": {"keys": 3}, "db2": {"keys": 4}}
    refused = ServerSnapshot(MappingProxyType(info), MappingProxyType({}), None, SlowLog())
    assert (refused.memory.policy, refused.keys) == ("allkeys-lru", 7)
    assert (
        refused.unread("bind")
        == "CONFIG GET gave no answer: bind is not in INFO; check it in the provider's console"
    )
