"""Latency: round trips within the profile's budget, and no recent slow commands on the server."""

import pytest

from redis_preflight.verdict.outcomes import unverified

pytestmark = pytest.mark.area("latency")


@pytest.mark.severity("blocking")
@pytest.mark.usefixtures("latency_histogram_shown")
def test_round_trip_latency(preflight, latency, finding):
    budget = preflight.budgets.latency_p50_ms
    assert latency.p50_ms < budget, (
        f"{latency.figures()}: p50 over the {budget:g} ms budget; the network path or the server is "
        "slow: compare redis-cli --latency from this host, check SLOWLOG, or set --latency-p50-ms "
        "if the budget does not fit this network"
    )
    finding.observed(f"{latency.figures()} (budget p50 < {budget:g} ms)")


@pytest.mark.severity("advisory")
def test_latency_tail(preflight, latency, finding):
    budget = preflight.budgets.latency_p99_ms
    assert latency.p99_ms < budget, (
        f"{latency.figures()}: p99 over the {budget:g} ms budget; occasional stalls (slow commands, "
        "fork for persistence, a busy network): check SLOWLOG and LATENCY LATEST, or set --latency-p99-ms"
    )
    finding.observed(f"p99 {latency.p99_ms:.2f} ms (budget p99 < {budget:g} ms)")


@pytest.mark.severity("advisory")
@pytest.mark.usefixtures("slow_commands_shown")
def test_slow_commands(preflight, slow_commands, finding):
    if slow_commands.refused:
        unverified(f"SLOWLOG GET refused: {slow_commands.refused}")
    threshold = preflight.budgets.slowlog_threshold_ms
    slow = slow_commands.recent_over(threshold)
    assert not slow, (
        f"{len(slow)} command(s) over {threshold:g} ms in the last hour (SLOWLOG GET 10): "
        f"{'; '.join(f'{entry} from {entry.client}' for entry in slow)}; they block every client "
        "meanwhile: find their callers, replace KEYS/large ranges with SCAN or smaller batches"
    )
    slowest = max(slow_commands.entries, key=lambda entry: entry.duration_ms, default=None)
    finding.observed(
        f"none over {threshold:g} ms in the last hour; SLOWLOG holds {len(slow_commands.entries)} "
        f"entries{f', slowest {slowest}' if slowest else ''}"
    )


@pytest.mark.severity("advisory")
def test_latency_events(preflight, latency_events, finding):
    if latency_events.refused:
        unverified(f"LATENCY LATEST refused: {latency_events.refused}")
    threshold = preflight.budgets.slowlog_threshold_ms
    spikes = latency_events.recent_over(threshold)
    assert not spikes, (
        f"latency spikes over {threshold:g} ms in the last hour (LATENCY LATEST): "
        f"{'; '.join(map(str, spikes))}; LATENCY DOCTOR on the server explains each event"
    )
    recorded = "; ".join(map(str, latency_events.events))
    finding.observed(
        f"none over {threshold:g} ms in the last hour: {recorded}"
        if recorded
        else "no latency events recorded (the monitor runs only if latency-monitor-threshold is set)"
    )
