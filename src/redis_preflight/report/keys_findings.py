"""What the keys checks say: one line per pattern and rule, what was seen and the next step."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from redis_preflight import stash
from redis_preflight.backup.drill import Drill
from redis_preflight.contract import KeyPattern
from redis_preflight.probes.keys.census import Census, PatternCensus, Rule, Violation, duration, wilson

RULE_OF_CHECK = {"test_shape": Rule.SHAPE, "test_ttl": Rule.TTL, "test_ttl_bounds": Rule.TTL_BOUNDS}
KINDS_SHOWN = 2
NEXT_STEP = {
    Rule.SHAPE: "fix the code that writes these keys, or the contract (--contract)",
    Rule.TTL: "set an expiry where these keys are written (SET ... EX, or EXPIRE after HSET/INCR)",
    Rule.TTL_BOUNDS: "fix the expiry where these keys are written, or the policy (--key-policies)",
}


def parametrize_patterns(metafunc: pytest.Metafunc) -> None:
    """One result per pattern and rule (`test_ttl[blacklist]`), each with its own severity."""
    rule = RULE_OF_CHECK.get(metafunc.function.__name__)
    if rule is None or "pattern" not in metafunc.fixturenames:
        return
    contract = stash.run(metafunc.config).contract
    params = [
        pytest.param(p.name, id=p.name, marks=pytest.mark.severity(severity(rule, p)))
        for p in contract.patterns
    ]
    metafunc.parametrize("pattern", params)


def severity(rule: Rule, pattern: KeyPattern) -> str:
    """Shape is always blocking; TTL rules follow the policy, and a token outliving its key blocks."""
    if rule is Rule.SHAPE or pattern.ttl.required:
        return "blocking"
    if rule is Rule.TTL_BOUNDS and pattern.ttl.covers_jwt_exp:
        return "blocking"
    return "advisory"


def examined(census: Census, pattern: PatternCensus) -> str:
    total = f"{pattern.count:,}" if pattern.counted else f"~{pattern.count:,} (estimated)"
    return f"examined {pattern.examined:,} of {total} {pattern.name} keys (DBSIZE {census.dbsize:,})"


def no_keys(census: Census, pattern: PatternCensus) -> str | None:
    """Why a pattern cannot be judged, or None when some of its keys were examined."""
    if pattern.examined:
        return None
    where = "the whole keyspace" if census.complete else f"a {census.bounds.scan_budget_s:g} s scan"
    return f"no {pattern.glob} keys among the {census.scanned:,} scanned ({where}): nothing to judge"


def rate(pattern: PatternCensus, failures: int) -> str:
    """The share of examined keys that fail; sampled, with its 95% confidence interval."""
    share = failures / pattern.examined
    if not pattern.sampled:
        return f"{share:.1%}"
    low, high = wilson(failures, pattern.examined)
    return f"{share:.1%}; 95% CI {low:.1%}-{high:.1%} of all {pattern.count:,}"


def _kinds(violations: tuple[Violation, ...]) -> str:
    shown = [f"{v.label} x{v.count:,} ({v.examples[0].key}: {v.examples[0].reason})" for v in violations]
    more = len(shown) - KINDS_SHOWN
    return ", ".join(shown[:KINDS_SHOWN]) + (f", {more} more in the report" if more > 0 else "")


def broken(census: Census, pattern: PatternCensus, rule: Rule) -> str:
    """The failure line of one pattern and rule."""
    failures = pattern.failures(rule)
    what = {
        Rule.SHAPE: "break the value shape",
        Rule.TTL: "have no TTL",
        Rule.TTL_BOUNDS: "break a TTL bound",
    }
    why = f" ({pattern.policy.why})" if rule is Rule.TTL and pattern.policy.why else ""
    tolerance = pattern.ttl_tolerance() if rule is Rule.TTL else None
    over = f" ({tolerance})" if tolerance else ""
    return (
        f"{pattern.name}: {failures:,} of {pattern.examined:,} examined keys {what[rule]} "
        f"({rate(pattern, failures)}){over}: {_kinds(pattern.broken(rule))}{why}; {NEXT_STEP[rule]}"
    )


def ttl_kept(pattern: PatternCensus) -> str:
    """How a pattern keeps its TTL policy: all keys carry one, or enough of them do; and what
    the per-field TTLs of its hashes are, where the server has them."""
    fields = f"; {pattern.field_ttls}" if pattern.field_ttls else ""
    return _ttl_kept(pattern) + fields


def _ttl_kept(pattern: PatternCensus) -> str:
    missing = pattern.failures(Rule.TTL)
    if not missing:
        return f"all have a TTL ({ttl_spread(pattern)})"
    policy = pattern.policy
    allowed = [f"coverage {policy.coverage:.2%}"] if policy.coverage is not None else []
    if policy.max_without_ttl is not None:
        allowed.append(f"at most {policy.max_without_ttl:,} without")
    return f"{missing:,} without TTL ({rate(pattern, missing)}), within the policy ({', '.join(allowed)})"


def ttl_spread(pattern: PatternCensus) -> str:
    if pattern.ttl_min_s is None or pattern.ttl_median_s is None or pattern.ttl_max_s is None:
        return "no TTLs"
    return (
        f"TTL min {duration(pattern.ttl_min_s)}, median {duration(pattern.ttl_median_s)}, "
        f"max {duration(pattern.ttl_max_s)}"
    )


def bounds(pattern: PatternCensus) -> str | None:
    """The TTL bounds the contract sets for a pattern, in words; None when it sets none."""
    policy = pattern.policy
    said = []
    if policy.max_ttl is not None:
        said.append(f"at most {duration(policy.max_ttl.total_seconds())}")
    if policy.min_ttl is not None:
        said.append(f"at least {duration(policy.min_ttl.total_seconds())}")
    if policy.covers_jwt_exp:
        said.append("until the token's exp")
    if policy.herd is not None:
        herd = policy.herd
        said.append(f"at most {herd.max_share:.0%} expiring within {duration(herd.window.total_seconds())}")
    return " and ".join(said) or None


def census_line(census: Census) -> str:
    return (
        f"scanned {census.scanned:,} keys (DBSIZE {census.dbsize:,}), examined {census.examined:,} "
        f"in {census.elapsed_s:.2f} s ({census.keys_per_s:,.0f} keys/s); {census.bounds.describe()}"
    )


def cut_short(census: Census) -> str:
    return (
        f"the key census stopped at its {census.bounds.scan_budget_s:g} s budget after "
        f"{census.scanned:,} of {census.dbsize:,} keys: counts are estimates and rare patterns may "
        "be missed; raise --scan-budget or use --full-scan"
    )


def unmatched(census: Census) -> str:
    groups = ", ".join(f"{prefix} {count:,}" for prefix, count in census.unmatched[:8])
    return (
        f"{census.unmatched_total:,} scanned keys match no pattern of the contract ({groups}); "
        "add their patterns to the contract (--contract) or remove them"
    )


def matched(census: Census) -> str:
    if not census.scanned:
        return "no keys scanned: the db is empty"
    return f"all {census.scanned:,} scanned keys match a pattern of the contract"


def backup_age(drill: Drill) -> str:
    """`RDB dump.rdb written 3.2 h ago (2026-01-01 10:00 UTC), 1,234 keys loaded`."""
    age_h = (time.time() - drill.created_at_s) / 3600
    written = datetime.fromtimestamp(drill.created_at_s, UTC).strftime("%Y-%m-%d %H:%M UTC")
    notes = "".join(f"; {note}" for note in drill.notes)
    loaded = f"{drill.keys:,} keys loaded{notes}"
    return f"{drill.kind} {drill.source.name} written {age_h:.1f} h ago ({written}), {loaded}"


def backup_count(drill: Drill) -> str:
    live = drill.live_dbsize or 0
    share = f" ({drill.keys / live:.0%})" if live else ""
    return f"{drill.keys:,} keys in the backup, {live:,} in the live server now{share}"
