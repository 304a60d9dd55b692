"""Keys: every pattern of the key contract keeps its value shape and its TTL policy."""

import time

import pytest

from redis_preflight.probes.keys.census import Rule
from redis_preflight.report.keys import census_table, ttl_picture, violations_table
from redis_preflight.report.keys_findings import (
    backup_age,
    backup_count,
    bounds,
    broken,
    census_line,
    cut_short,
    examined,
    matched,
    no_keys,
    parametrize_patterns,
    ttl_kept,
    unmatched,
)
from redis_preflight.report.keys_memory import memory_picture
from redis_preflight.verdict.outcomes import not_applicable, unverified

pytestmark = [
    pytest.mark.area("keys"),
    # The census runs in a fixture and takes as long as --full-scan needs: the backstop covers
    # the checks only. Every read of the census has the socket timeout, so a stalled server
    # still cannot hang the gate.
    pytest.mark.timeout(func_only=True),
]


def pytest_generate_tests(metafunc):
    parametrize_patterns(metafunc)


def skip_without_keys(census, pattern_census):
    reason = no_keys(census, pattern_census)
    if reason:
        not_applicable(reason)


@pytest.mark.severity("advisory")
def test_census(census, finding, evidence):
    evidence.append(census_table(census) + memory_picture(census))
    assert census.stopped is None, census.stopped
    assert census.complete, cut_short(census)
    finding.observed(census_line(census))


def test_shape(census, pattern_census, finding, evidence):
    skip_without_keys(census, pattern_census)
    evidence.append(violations_table(pattern_census))
    assert not pattern_census.breaks(Rule.SHAPE), broken(census, pattern_census, Rule.SHAPE)
    finding.observed(f"{examined(census, pattern_census)}: every value keeps the shape")


def test_ttl(census, pattern_census, finding, evidence):
    skip_without_keys(census, pattern_census)
    evidence.append(ttl_picture(pattern_census))
    assert not pattern_census.breaks(Rule.TTL), broken(census, pattern_census, Rule.TTL)
    finding.observed(f"{examined(census, pattern_census)}: {ttl_kept(pattern_census)}")


def test_ttl_bounds(census, pattern_census, finding):
    skip_without_keys(census, pattern_census)
    if bounds(pattern_census) is None:
        not_applicable(f"the contract sets no TTL bound for {pattern_census.name}")
    assert not pattern_census.breaks(Rule.TTL_BOUNDS), broken(census, pattern_census, Rule.TTL_BOUNDS)
    finding.observed(f"{examined(census, pattern_census)}: TTLs {bounds(pattern_census)}")


@pytest.mark.severity("advisory")
def test_unmatched_keys(census, finding):
    assert not census.unmatched, unmatched(census)
    finding.observed(matched(census))


# The restore drill (--rdb, --backup): the keys above judged the backup; these judge its age and size.
BACKUP_COUNT_TOLERANCE = 0.10


@pytest.mark.severity("advisory", production="blocking")
def test_backup_age(preflight, backup_drill, finding):
    limit_h = preflight.settings.max_save_age
    age_s = time.time() - backup_drill.created_at_s
    assert age_s <= limit_h * 3600, (
        f"{backup_age(backup_drill)}, expected under {limit_h:g} h (--max-save-age): a restore today "
        "would lose everything written since; check the backup job (BGSAVE schedule, the copy off the host)"
    )
    finding.observed(backup_age(backup_drill))


@pytest.mark.severity("advisory")
def test_backup_key_count(backup_drill, finding):
    if backup_drill.live_failure is not None:
        unverified(f"{backup_drill.live_failure}: the backup's key count is not compared")
    if backup_drill.live_dbsize is None:
        not_applicable("no live server to compare with: give --redis-url too (it is asked DBSIZE only)")
    live = backup_drill.live_dbsize
    assert abs(backup_drill.keys - live) <= BACKUP_COUNT_TOLERANCE * max(live, 1), (
        f"{backup_count(backup_drill)}: more than {BACKUP_COUNT_TOLERANCE:.0%} apart; a backup of another "
        "db or server, a filtered --match, or a keyspace that changed a lot since: check which one"
    )
    finding.observed(backup_count(backup_drill))
