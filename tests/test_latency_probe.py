"""The latency area's pure parts: percentiles, secret masking, and the escaped pictures."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
import redis

from redis_preflight.config.profiles import BUDGETS, Profile
from redis_preflight.ephemeral.local_server import free_port
from redis_preflight.probes.latency import (
    PAUSE_S,
    LatencySample,
    SlowCommand,
    SlowLog,
    masked,
    parse_slowlog,
    sample_fleet_latency,
)
from redis_preflight.report.pictures import latency_histogram, slow_command_table


def test_percentiles_are_measured_values_by_nearest_rank():
    sample = LatencySample(tuple(float(n) for n in range(100, 0, -1)), 0.5)
    assert (sample.percentile(0), sample.p50_ms, sample.percentile(95), sample.p99_ms) == (1, 50, 95, 99)
    assert sample.figures() == (
        "min 1.00 ms, p50 50.0 ms, p95 95.0 ms, p99 99.0 ms, max 100 ms over 100 PINGs in 0.50 s"
    )
    assert LatencySample((0.25,), 0.01).p99_ms == 0.25


# What a Redis 5/6 server or a proxy logs unredacted; Redis 7 redacts these itself.
@pytest.mark.parametrize(
    ("words", "shown"),
    [
        (["AUTH", "hunter2"], ["AUTH", "***"]),
        (["auth", "bob", "hunter2"], ["auth", "***", "***"]),
        (["HELLO", "3", "AUTH", "bob", "hunter2", "SETNAME", "x"], ["HELLO", "3", "AUTH", *["***"] * 4]),
        (["ACL", "SETUSER", "bob", "on", ">hunter2", "#abc"], ["ACL", "SETUSER", "bob", "***", "***", "***"]),
        (["CONFIG", "SET", "requirepass", "hunter2"], ["CONFIG", "SET", "requirepass", "***"]),
        (
            ["config", "set", "maxmemory", "1gb", "masterauth", "hunter2"],
            ["config", "set", "maxmemory", "1gb", "masterauth", "***"],
        ),
        (
            ["MIGRATE", "h", "6379", "", "0", "5000", "AUTH2", "bob", "hunter2"],
            [*["MIGRATE", "h", "6379", "", "0"], "5000", "AUTH2", "***", "***"],
        ),
        (
            ["SENTINEL", "SET", "mymaster", "auth-pass", "hunter2"],
            ["SENTINEL", "SET", "mymaster", "auth-pass", "***"],
        ),
        (["GET", "x" * 40], ["GET", "x" * 32 + "..."]),
    ],
)
def test_secrets_are_masked_whatever_the_server_redacted(words, shown):
    assert masked(words) == shown


def test_histogram_is_valid_svg_with_escaped_text():
    for samples in [(0.21,), (0.0, 0.0), tuple(0.1 + n / 100 for n in range(100)) + (40.0,)]:
        picture = latency_histogram(LatencySample(samples, 0.3), BUDGETS[Profile.LOCAL])
        svg = ET.fromstring(picture[picture.index("<svg") : picture.index("</svg>") + 6])  # noqa: S314 (ours)
        assert svg.find("{http://www.w3.org/2000/svg}title").text.startswith("Round-trip latency")
        assert "budget p50 &lt; 1 ms" in picture
        assert "<script" not in picture


def test_slow_command_table_escapes_what_the_server_logged():
    entry = SlowCommand(100.0, 12.5, "EVAL", ("<script>alert(1)</script>", "0"), 2, "127.0.0.1:1<b>")
    table = slow_command_table(SlowLog((entry,), 160.0), 10.0)
    assert "<script>" not in table
    assert (
        "<td>60 s ago</td><td>12.5 ms</td><td>EVAL</td><td>&lt;script&gt;alert(1)&lt;/script&gt; 0</td>"
        in table
    )
    assert "<td>127.0.0.1:1&lt;b&gt;</td>" in table


# SLOWLOG GET as Redis answers it, and as Redis Enterprise does: a complexity figure comes before
# the arguments, and the entry may end there (no client address, no client name).
@pytest.mark.parametrize(
    "entry",
    [
        [7, 1700000000, 12500, [b"CONFIG", b"SET", b"requirepass", b"hunter2"], b"10.0.0.9:5012", b""],
        [7, 1700000000, 12500, b"complexity info: N:4", [b"CONFIG", b"SET", b"requirepass", b"hunter2"]],
        [7, 1700000000, 12500, 4, [b"CONFIG", b"SET", b"requirepass", b"hunter2"], b"10.0.0.9:5012"],
    ],
)
def test_one_slowlog_parser_reads_redis_and_redis_enterprise_shapes(entry):
    [command] = parse_slowlog([entry])
    assert (command.started, command.duration_ms, command.command) == (1700000000.0, 12.5, "CONFIG SET")
    assert (command.arguments, command.argument_count) == (("requirepass", "***"), 2)
    assert command.client in ("10.0.0.9:5012", "")


def test_a_fleets_bursts_interleave_each_target_paced_and_timed_alone(redis_factory):
    """Three targets' bursts on one thread: every PING answered, each target's PINGs PAUSE_S apart;
    a target that went away gets its error, the others their samples. (How much time interleaving
    saves is benchmarks/fleet_overhead.py's figure, not a timed test.)"""
    servers = [redis_factory() for _ in range(3)]
    clients = [redis.Redis(port=server.port, socket_timeout=2) for server in servers]
    gone = redis.Redis(port=free_port(), socket_connect_timeout=1)
    bursts = sample_fleet_latency([*clients, gone], 100, 5.0)
    for burst in bursts[:3]:
        assert isinstance(burst, LatencySample)
        assert len(burst.samples_ms) == 100
        # 100 PINGs at least PAUSE_S apart take at least 100 pauses, not one between all targets.
        assert burst.elapsed_s >= 100 * PAUSE_S
    assert isinstance(bursts[3], redis.ConnectionError)
    for client in [*clients, gone]:
        client.close()
