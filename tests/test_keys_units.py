"""The keys area's pure parts: the contract, key names, JWTs, intervals, the report's HTML."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest

from redis_preflight.contract import ContractError, KeyPolicy, load_contract
from redis_preflight.contract.goals_tracker import CONTRACT
from redis_preflight.contract.samples import jwt, sample_keyspace
from redis_preflight.probes.keys.census import Example, Violation, duration, wilson
from redis_preflight.probes.keys.names import shown, shown_prefix
from redis_preflight.probes.keys.pages import Sorter, gaps, successor
from redis_preflight.probes.keys.tally import jwt_exp
from redis_preflight.report.keys import ttl_picture, violations_table


def test_default_contract_has_the_seed_patterns():
    assert CONTRACT.names == ("user_session", "ws_connections", "goal_state", "blacklist", "rate_limit")
    assert CONTRACT.pattern("user_session").ttl.max_ttl == timedelta(days=7)
    assert CONTRACT.pattern("goal_state").ttl.required is False
    assert CONTRACT.pattern("blacklist").ttl.covers_jwt_exp


def test_sample_keyspace_keeps_the_contract():
    for key, value, _ in sample_keyspace(users=2):
        pattern = next(p for p in CONTRACT.patterns if key.startswith(p.prefix))
        pattern.validator().validate_python([value])


def test_key_policies_change_only_what_they_name():
    contract = load_contract(
        None,
        {
            "goal_state": KeyPolicy(ttl="required", max_ttl=timedelta(days=2)),
            "user_session": KeyPolicy(max_ttl=None, extra_fields=True),
        },
    )
    goal_state, session = contract.pattern("goal_state"), contract.pattern("user_session")
    assert goal_state.ttl.required
    assert goal_state.ttl.max_ttl == timedelta(days=2)
    assert session.ttl.max_ttl is None
    assert session.extra_fields
    assert session.ttl.required
    assert contract.pattern("blacklist") == CONTRACT.pattern("blacklist")


def test_extra_fields_policy_is_applied_to_the_model():
    value = b'{"user_id": "6f1c2d1e-9a7b-4c3d-8e2f-1a2b3c4d5e6f", "connected_at": "2026-01-01T00:00:00Z", '
    value += b'"ip": "10.0.0.1", "browser": "x"}'
    strict = CONTRACT.pattern("ws_connections")
    with pytest.raises(ValueError, match="Extra inputs are not permitted"):
        strict.validator().validate_python([value])
    relaxed = load_contract(None, {"ws_connections": KeyPolicy(extra_fields=True)}).pattern("ws_connections")
    relaxed.validator().validate_python([value])


def test_contract_rejects_duplicate_prefixes():
    with pytest.raises(ValueError, match="two patterns share the prefix user_session:"):
        CONTRACT.plus(CONTRACT.pattern("user_session").model_copy(update={"name": "sessions"}))


def test_contract_file_with_a_named_attribute(tmp_path):
    module = tmp_path / "contracts.py"
    module.write_text(
        "from redis_preflight.contract.goals_tracker import CONTRACT as TRACKER\n"
        "ONLY_SESSIONS = TRACKER.model_copy(update={'patterns': TRACKER.patterns[:1]})\n"
    )
    assert load_contract(f"{module}:ONLY_SESSIONS", {}).names == ("user_session",)
    with pytest.raises(ContractError, match="has no CONTRACT"):
        load_contract(str(module), {})


def test_ip_address_of_the_default_contract():
    validator = CONTRACT.pattern("ws_connections").validator()
    base = (
        b'{"user_id": "6f1c2d1e-9a7b-4c3d-8e2f-1a2b3c4d5e6f", "connected_at": "2026-01-01T00:00:00Z", "ip": '
    )
    for good in (b'"127.0.0.1"', b'"::1"', b'"2001:db8::8a2e:370:7334"'):
        validator.validate_python([base + good + b"}"])
    for bad in (b'"300.1.1.1"', b'"localhost"', b'"1.2.3"'):
        with pytest.raises(ValueError, match="not a valid IPv4 or IPv6 address"):
            validator.validate_python([base + bad + b"}"])


def test_masked_and_escaped_key_names():
    token = jwt(2_000_000_000)
    assert (
        shown(f"blacklist:{token}".encode(), len(b"blacklist:")) == f"blacklist:eyJhbG...({len(token)} chars)"
    )
    assert shown(b"a\nb\x1b\xff") == r"a\nb\x1b\xff"
    assert shown(b"k" * 200).endswith("...(200 bytes)")
    assert shown_prefix(b"tmp:") == "tmp:*"
    assert shown_prefix(b"") == "(no family prefix)"


def test_jwt_exp_is_read_without_verifying():
    assert jwt_exp(jwt(1_900_000_000).encode()) == 1_900_000_000
    claims = base64.urlsafe_b64encode(b'{"sub": "x"}').rstrip(b"=")
    assert jwt_exp(b"e30." + claims + b".sig") is None
    assert jwt_exp(b"not-a-jwt") is None
    assert jwt_exp(b"a.!!!.c") is None


def test_wilson_interval():
    low, high = wilson(0, 1000)
    assert low == 0
    assert 0.003 < high < 0.004
    low, high = wilson(50, 1000)
    assert 0.037 < low < 0.05 < high < 0.066


def test_duration_words():
    assert [duration(s) for s in (45, 720, 12600, 691200)] == ["45 s", "12 min", "3.5 h", "8 d"]


@pytest.mark.parametrize(
    ("low", "high", "claimed", "expected"),
    [
        (0, 10, [], [(0, 10)]),
        (0, 10, [(2, 4), (6, 8)], [(0, 2), (4, 6), (8, 10)]),
        (2, 8, [(0, 3), (7, 12)], [(3, 7)]),
        (0, 10, [(5, 8), (6, 7)], [(0, 5), (8, 10)]),
    ],
)
def test_gaps_between_claimed_ranges(low, high, claimed, expected):
    assert gaps(low, high, claimed) == expected


def test_successor_bounds_a_prefix():
    assert successor(b"user_session:") == b"user_session;"
    assert successor(b"a\xff") == b"b"
    assert successor(b"\xff\xff") == b""


def test_sorter_longest_prefix_wins():
    sorter = Sorter({b"app:": "app", b"app:session:": "session", b"\xff": "high"})
    page = [b"app:session:1", b"app:2", b"app:session:", b"apq", b"other", b"\xff\x00", b"app:"]
    groups, unmatched = sorter.sort(page)
    assert dict(groups) == {
        "session": [b"app:session:", b"app:session:1"],
        "app": [b"app:", b"app:2"],
        "high": [b"\xff\x00"],
    }
    assert unmatched == [b"apq", b"other"]


def test_report_escapes_examples():
    from redis_preflight.probes.keys.census import PatternCensus

    pattern = PatternCensus(
        name="user_session",
        glob="user_session:*",
        policy=CONTRACT.pattern("user_session").ttl,
        seen=3,
        count=3,
        counted=True,
        examined=3,
        with_ttl=2,
        ttl_min_s=60.0,
        ttl_median_s=120.0,
        ttl_max_s=30 * 86400.0,
        ttl_buckets=(("no TTL", 1), ("< 1 min", 0), ("1-10 min", 1), ("10 min-1 h", 0), ("1-6 h", 0))
        + (("6-24 h", 0), ("1-7 d", 0), ("7-30 d", 1), (">= 30 d", 0)),
        types=(("string", 3),),
        memory_per_key=None,
        memory_note="MEMORY USAGE refused (<b>)",
        violations=(Violation("invalid_json", 1, (Example("user_session:<script>x</script>", "a & b"),)),),
    )
    table = violations_table(pattern)
    assert "<script>" not in table
    assert "user_session:&lt;script&gt;x&lt;/script&gt;" in table
    assert "a &amp; b" in table
    picture = ttl_picture(pattern)
    assert picture.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert picture.count("<rect") == 9
    assert 'fill="#c0392b"' in picture  # no TTL, and 7-30 d above the 7 d maximum
    assert "&gt;= 30 d" in picture


def test_ttl_buckets_median_and_missing_ttls():
    from redis_preflight.probes.keys.census import Bounds
    from redis_preflight.probes.keys.tally import Tally

    tally = Tally(CONTRACT.pattern("user_session"), Bounds())
    pttls = [1000, 59_999, 60_000, 3_600_000, 7 * 86_400_000, -1, -2]  # -1: no TTL, -2: deleted
    tally.judge_ttls([f"user_session:{n}".encode() for n in range(7)], pttls, now_ms=0)
    result = tally.freeze(complete=True, scale=1.0)
    assert dict(result.ttl_buckets) == {
        "no TTL": 1,
        "< 1 min": 2,
        "1-10 min": 1,
        "10 min-1 h": 0,
        "1-6 h": 1,
        "6-24 h": 0,
        "1-7 d": 0,
        "7-30 d": 1,
        ">= 30 d": 0,
    }
    assert (result.ttl_min_s, result.ttl_median_s, result.ttl_max_s) == (1.0, 60.0, 604_800.0)
    assert (result.examined, result.with_ttl) == (6, 5)
    assert [v.kind for v in result.violations] == ["no_ttl"]
