"""Sentinel: the sentinels answer, can fail over, and name a working primary with its replicas."""

import pytest

from redis_preflight.verdict.outcomes import unverified

pytestmark = [pytest.mark.area("sentinel"), pytest.mark.severity("blocking")]


def test_sentinels_reachable(sentinel, finding):
    answers = sentinel.lookup.answers
    silent = [answer for answer in answers if answer.failure is not None]
    assert not silent, f"{len(silent)} of {len(answers)} sentinels do not answer: " + "; ".join(
        str(answer.failure) for answer in silent
    )
    finding.observed(
        f"{len(answers)} sentinels answered in {sentinel.lookup.elapsed_ms:.1f} ms: "
        + ", ".join(answer.address for answer in answers)
    )


def test_sentinel_quorum(sentinel, finding):
    answering = {answer.address for answer in sentinel.lookup.answered}
    asked = [answer for answer in sentinel.quorum if answer.address in answering]
    refused = [answer for answer in asked if answer.failure is not None]
    assert asked, f"no sentinel answered SENTINEL CKQUORUM: {sentinel.lookup.failure}"
    assert not refused, "; ".join(str(answer.failure) for answer in refused)
    finding.observed(f"SENTINEL CKQUORUM {sentinel.lookup.sentinels.service}: OK on {len(asked)} sentinels")


def test_sentinel_primary_known(sentinel, preflight, reachability, primary_identity, finding):
    lookup = sentinel.lookup
    assert lookup.primary is not None, str(lookup.failure)
    named = {answer.address: answer.primary for answer in lookup.answered}
    assert len(set(named.values())) == 1, (
        f"the sentinels disagree on the primary of {lookup.sentinels.service!r} ({named}): a failover in "
        "progress or a split; compare SENTINEL GET-MASTER-ADDR-BY-NAME on each"
    )
    down = {"s_down", "o_down"} & set(sentinel.primary_flags)
    assert not down, (
        f"the sentinels see primary {preflight.target.address} as {', '.join(sorted(down))}: they will fail "
        "it over if they can; check the primary and the sentinels' network"
    )
    assert reachability.ok, (
        f"primary {preflight.target.address} named by the sentinels: {reachability.failure}"
    )
    if primary_identity is None:
        unverified(
            f"{preflight.target.address}, named primary by the sentinels, gave no INFO to read its role"
        )
    role = primary_identity.role
    assert role == "primary", (
        f"{preflight.target.address}, named primary by the sentinels, says it is a {role}: the sentinels' "
        "view is stale; check SENTINEL MASTER and the server's INFO replication"
    )
    finding.observed(
        f"{lookup.sentinels.service} is {preflight.target.address}, named by {len(named)} of "
        f"{len(lookup.answers)} sentinels"
    )


def test_sentinel_replicas(sentinel, preflight, finding):
    assert sentinel.failure is None, str(sentinel.failure)
    healthy = [replica for replica in sentinel.replicas if replica.healthy]
    wanted = preflight.min_replicas
    listed = (
        ", ".join(f"{r.address} ({','.join(r.flags)}, link {r.link})" for r in sentinel.replicas) or "none"
    )
    assert len(healthy) >= wanted, (
        f"{len(healthy)} working replica(s) of {sentinel.lookup.sentinels.service}, below the {wanted} "
        f"wanted (--min-replicas; default 1 in production); listed: {listed}; add one "
        "(replicaof PRIMARY PORT)"
    )
    finding.observed(f"{len(sentinel.replicas)} replica(s) listed: {listed}")
