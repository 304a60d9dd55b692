"""The one option table: the pytest options are registered from it, and a setting's source is named by it.

Each option feeds the PreflightSettings field of the same name (config/settings.py), which also
reads it from the environment (PREFLIGHT_<NAME>) and the env file. A new option is one line here
and one field there.
"""

from __future__ import annotations

from typing import NamedTuple

FLAG = bool  # an option that takes no value
REPEATABLE = list  # an option that may be given several times; its values are collected


class Option(NamedTuple):
    flag: str
    field: str  # the PreflightSettings field it feeds
    kind: type
    help: str


OPTIONS = (
    Option(
        "--redis-url",
        "redis_url",
        REPEATABLE,
        "Redis URL (redis://, rediss://, unix://, redis+sentinel://) or 'ephemeral'; repeat for a fleet",
    ),
    Option("--profile", "profile", str, "local | remote | production (default: inferred)"),
    Option("--connect-timeout", "connect_timeout", float, "seconds for a TCP connect (default 5)"),
    Option("--socket-timeout", "socket_timeout", float, "seconds for any reply (default 5)"),
    Option("--max-reply-bytes", "max_reply_bytes", int, "largest reply accepted, in bytes (default 16 MiB)"),
    Option("--run-deadline", "run_deadline", float, "seconds the whole run may take (docs/bounds.md)"),
    Option("--report-dir", "report_dir", str, "where the reports go (default reports)"),
    Option("--allow-write", "allow_write", FLAG, "allow the set/get round trip on a unique key"),
    Option(
        "--accept-incomplete",
        "accept_incomplete",
        FLAG,
        "exit 0 on an INCOMPLETE verdict (a known restricted setup); the report says it was accepted",
    ),
    Option(
        "--read-only-target",
        "read_only_target",
        FLAG,
        "the target is a replica on purpose: the application only reads from it",
    ),
    # TLS and authentication
    Option("--tls-ca-file", "tls_ca_file", str, "CA bundle (PEM) to verify the server (default: system)"),
    Option("--tls-cert-file", "tls_cert_file", str, "client certificate (PEM) for servers that require one"),
    Option("--tls-key-file", "tls_key_file", str, "the client certificate's private key (PEM)"),
    Option("--tls-min-days", "tls_min_days", int, "days of certificate validity left before advising (30)"),
    Option("--tls-insecure", "tls_insecure", FLAG, "skip certificate verification (troubleshooting only)"),
    Option("--plaintext-port", "plaintext_port", int, "port probed for plaintext beside TLS (6379; 0: off)"),
    Option("--targets-file", "targets_file", str, "file of Redis URLs, one per line (# comments)"),
    Option("--wait", "wait", float, "seconds to wait for the target (and health endpoint) to be ready"),
    Option("--shard", "shard", str, "K/N: verify only the K-th of N shares of the targets (1 <= K <= N)"),
    Option("--prometheus-file", "prometheus_file", str, "write the verdict as a node_exporter textfile"),
    Option("--min-replicas", "min_replicas", int, "replicas each primary needs (default 1 in production)"),
    Option("--max-cluster-nodes", "max_cluster_nodes", int, "most cluster nodes checked one by one (1000)"),
    Option("--latency-samples", "latency_samples", int, "PINGs in the latency burst (default 100)"),
    Option("--latency-window", "latency_window", float, "seconds the burst may take (default 2)"),
    Option("--latency-p50-ms", "latency_p50_ms", float, "p50 budget in ms (default: the profile's)"),
    Option("--latency-p99-ms", "latency_p99_ms", float, "p99 budget in ms (default: the profile's)"),
    Option(
        "--slowlog-threshold-ms", "slowlog_threshold_ms", float, "slow-command threshold in ms (default 10)"
    ),
    # the application's health endpoint
    Option("--health-url", "health_url", str, "the application's health endpoint (http:// or https://)"),
    Option("--health-ca-file", "health_ca_file", str, "CA bundle (PEM) for the health endpoint's TLS"),
    Option("--expect-version", "expect_version", str, "the version the health endpoint must report"),
    Option("--require-service", "require_service", REPEATABLE, "a service that must be true besides redis"),
    # which areas run (connection, auth, tls, latency, keys, server, health, cluster, sentinel)
    Option("--only", "only", REPEATABLE, "run only these areas (repeatable or comma-separated)"),
    Option("--skip", "skip", REPEATABLE, "skip these areas (repeatable or comma-separated)"),
    Option("--health-budget-ms", "health_budget_ms", float, "health answer budget (default per profile)"),
    # Server area
    Option("--max-save-age", "max_save_age", float, "hours since the last successful save (default 24)"),
    # keys area: the key census and its contract
    Option("--key-sample", "key_sample", int, "keys examined per pattern (default 1000)"),
    Option("--scan-budget", "scan_budget", float, "seconds the key census may scan (default 10)"),
    Option("--full-scan", "full_scan", FLAG, "examine every key: no sample, no time budget"),
    Option("--max-ops-per-sec", "max_ops_per_sec", int, "throttle the key census (default: none)"),
    Option("--max-value-bytes", "max_value_bytes", int, "never fetch a larger value (default 1 MiB)"),
    Option(
        "--contract",
        "contract",
        str,
        "key contract: contract.toml, pyproject.toml, module[:NAME] or file.py[:NAME] exposing CONTRACT",
    ),
    Option("--key-policies", "key_policies", str, 'JSON: {"rate_limit": {"max_ttl": 7200}, ...}'),
    Option(
        "--rdb", "rdb", str, "restore drill: load this dump.rdb into a local redis-server, check its keys"
    ),
    Option("--backup", "backup", str, "restore drill: the same for a `redis-preflight backup` file"),
    # managed services (docs/providers/)
    Option(
        "--renamed-command", "renamed_command", REPEATABLE, "COMMAND=NEW_NAME renamed on the server (secret)"
    ),
    Option("--provider", "provider", str, "elasticache|memorystore|azure|redis-cloud|aiven|self-hosted"),
    Option("--auth-token-provider", "auth_token_provider", str, "aws | gcp | azure: AUTH with a cloud token"),
    Option("--aws-region", "aws_region", str, "AWS region of the ElastiCache cache (aws tokens)"),
    Option("--aws-cache-name", "aws_cache_name", str, "replication group or serverless cache name (aws)"),
    Option("--aws-serverless", "aws_serverless", FLAG, "the cache is ElastiCache Serverless (aws tokens)"),
)

# pytest's own --strict (it also enables pytest's strict options) feeds the strict setting.
STRICT = Option("--strict", "strict", FLAG, "advisory findings fail the gate too")
FLAGS = {option.field: option.flag for option in (*OPTIONS, STRICT)}
