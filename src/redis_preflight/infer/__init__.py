"""`redis-preflight contract infer --redis-url URL`: a starting contract from a live keyspace.

Read-only and bounded like the census (SCAN, a sample, a time budget, a throttle); prints the
contract file on stdout (or writes --output). Exit 0, 2 when the server could not be read,
4 on a bad option.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import redis

from redis_preflight.config.settings import SettingsError, load_settings
from redis_preflight.config.target import TargetError, parse_target
from redis_preflight.errors import classify
from redis_preflight.infer.draft import draft
from redis_preflight.probes.client import open_client
from redis_preflight.probes.keys.census import Bounds
from redis_preflight.probes.keys.sample import sample_keyspace

USAGE_ERROR, UNREADABLE = 4, 2


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="redis-preflight contract infer",
        description="Print a starting key contract (TOML) inferred from a read-only sample of a keyspace.",
    )
    parser.add_argument("--redis-url", help="the server to sample (default: REDIS_URL)")
    parser.add_argument("--key-sample", type=int, default=10_000, help="keys sampled at most (10000)")
    parser.add_argument("--scan-budget", type=float, default=10.0, help="seconds the sample may take (10)")
    parser.add_argument("--full-scan", action="store_true", help="sample every key: no limit, no budget")
    parser.add_argument("--max-ops-per-sec", type=int, help="throttle the reads (default: none)")
    parser.add_argument("--max-value-bytes", type=int, help="never read more of a value (1 MiB)")
    parser.add_argument("--tls-ca-file", help="CA bundle (PEM) for rediss:// URLs")
    parser.add_argument("--tls-insecure", action="store_true", help="skip certificate verification")
    parser.add_argument(
        "--renamed-command",
        action="append",
        metavar="COMMAND=NEW_NAME",
        help="a command the server renamed (repeatable; a secret, never shown)",
    )
    parser.add_argument("--output", "-o", type=Path, help="write the contract here instead of stdout")
    return parser


def main(argv: list[str]) -> int:
    """`redis-preflight contract ...`: `infer` is the one subcommand."""
    if argv[:1] != ["infer"]:
        print(
            "usage: redis-preflight contract infer --redis-url URL [options] (--help for them)",
            file=sys.stderr,
        )
        return USAGE_ERROR
    args = parser().parse_args(argv[1:])
    given = {
        "redis_url": args.redis_url,
        "key_sample": args.key_sample,
        "scan_budget": args.scan_budget,
        "full_scan": args.full_scan or None,
        "max_ops_per_sec": args.max_ops_per_sec,
        "max_value_bytes": args.max_value_bytes,
        "tls_ca_file": args.tls_ca_file,
        "tls_insecure": args.tls_insecure or None,
        "renamed_command": args.renamed_command,
    }
    try:
        settings = load_settings(given, None)
        if len(settings.redis_urls) != 1:
            raise TargetError("give one --redis-url (or REDIS_URL) to sample")
        target = parse_target(settings.redis_urls[0])
        if target.scheme == "redis+sentinel":
            raise TargetError("contract infer reads one server: give the primary's redis:// URL")
    except (SettingsError, TargetError) as e:
        print(f"redis-preflight contract infer: {e}", file=sys.stderr)
        return USAGE_ERROR
    bounds = Bounds(
        key_sample=settings.key_sample,
        scan_budget_s=settings.scan_budget,
        full_scan=settings.full_scan,
        max_ops_per_sec=settings.max_ops_per_sec,
        max_value_bytes=settings.max_value_bytes,
    )
    client = open_client(target, settings)
    try:
        sample = sample_keyspace(client, bounds)
    except redis.RedisError as e:
        print(f"redis-preflight contract infer: {classify(e, target)}", file=sys.stderr)
        return UNREADABLE
    finally:
        client.close()
    text = draft(sample)
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output}: {len(sample.families)} key families from {sample.scanned:,} keys")
    return 0
