"""The server snapshot as HTML for the report: the seed's monitoring commands, answered at a glance.

Every text passes the redactor and html.escape: key names and SLOWLOG arguments are the
application's data, and may carry markup or a secret.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from html import escape
from typing import Any

from redis_preflight.config.redact import Redactor
from redis_preflight.probes.latency import SLOWLOG_ENTRIES, SlowCommand
from redis_preflight.probes.server.snapshot import ServerSnapshot

# The INFO fields worth a glance, per section (INFO has about 150).
SECTIONS: dict[str, tuple[str, ...]] = {
    "Server": ("redis_version", "redis_mode", "os", "tcp_port", "uptime_in_days", "uptime_in_seconds"),
    "Clients": ("connected_clients", "maxclients", "blocked_clients"),
    "Memory": (
        "used_memory_human",
        "used_memory_peak_human",
        "used_memory_rss_human",
        "maxmemory_human",
        "maxmemory_policy",
        "mem_fragmentation_ratio",
    ),
    "Stats": (
        "instantaneous_ops_per_sec",
        "total_commands_processed",
        "total_connections_received",
        "rejected_connections",
        "expired_keys",
        "evicted_keys",
        "keyspace_hits",
        "keyspace_misses",
    ),
    "Persistence": (
        "rdb_last_bgsave_status",
        "rdb_last_save_time",
        "rdb_changes_since_last_save",
        "rdb_bgsave_in_progress",
        "aof_enabled",
        "aof_last_write_status",
        "aof_rewrite_in_progress",
    ),
    "Replication": (
        "role",
        "connected_slaves",
        "master_host",
        "master_port",
        "master_link_status",
        "master_last_io_seconds_ago",
    ),
}
Text = Callable[[Any], str]
STYLE = (
    "<style>.preflight-snapshot{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start;"
    "font:12px monospace}"
    ".preflight-snapshot table{border-collapse:collapse}"
    ".preflight-snapshot td,.preflight-snapshot th{border:1px solid #ccc;padding:2px 6px;text-align:left}"
    "</style>"
)


def render_snapshot(snapshot: ServerSnapshot, redactor: Redactor) -> str:
    """One small table per INFO section, then settings and SLOWLOG GET 10."""

    def text(value: Any) -> str:
        return escape(redactor.scrub(str(value)))

    tables = [_table(title, _section(snapshot, fields), text) for title, fields in SECTIONS.items()]
    keyspace = [(db, _db_line(stats)) for db, stats in snapshot.info.items() if db.startswith("db")]
    tables.append(_table("Keyspace", keyspace or [("(empty)", "")], text))
    settings = [(name, value or '""') for name, value in snapshot.config.items()]
    tables.append(_table("Settings (CONFIG GET)", settings or [(str(snapshot.config_blocked), "")], text))
    tables.append(_slowlog(snapshot, text))
    return "".join([STYLE, '<div class="preflight-snapshot">', *tables, "</div>"])


def _section(snapshot: ServerSnapshot, fields: tuple[str, ...]) -> list[tuple[str, Any]]:
    rows = [(name, snapshot.info[name]) for name in fields if name in snapshot.info]
    return [(name, _when(value) if name == "rdb_last_save_time" else value) for name, value in rows]


def _when(epoch: Any) -> str:
    return datetime.fromtimestamp(int(epoch), UTC).isoformat(timespec="seconds")


def _db_line(stats: Any) -> str:
    if not isinstance(stats, dict):
        return str(stats)
    return ", ".join(f"{name}={value}" for name, value in stats.items())


def _table(title: str, rows: list[tuple[str, Any]], text: Text) -> str:
    body = "".join(f"<tr><td>{text(name)}</td><td>{text(value)}</td></tr>" for name, value in rows)
    return f"<table><tr><th colspan=2>{text(title)}</th></tr>{body}</table>"


def _slowlog(snapshot: ServerSnapshot, text: Text) -> str:
    title = f"SLOWLOG GET {SLOWLOG_ENTRIES}: the newest first; arguments after the first are not shown"
    if snapshot.slowlog_blocked is not None:
        return f"<p>{text(snapshot.slowlog_blocked)}</p>"
    if not snapshot.slowlog.entries:
        return f"<p>SLOWLOG GET {SLOWLOG_ENTRIES}: no slow command logged</p>"
    head = "<tr><th>when (UTC)</th><th>ms</th><th>command</th><th>client</th></tr>"
    rows = "".join(
        f"<tr><td>{text(_when(e.started))}</td><td>{e.duration_ms:.2f}</td>"
        f"<td>{text(_command(e))}</td><td>{text(e.client)}</td></tr>"
        for e in snapshot.slowlog.entries
    )
    return f"<table><tr><th colspan=4>{text(title)}</th></tr>{head}{rows}</table>"


def _command(entry: SlowCommand) -> str:
    first = entry.arguments[0] if entry.arguments else ""
    more = f" (+{entry.argument_count - 1} more)" if entry.argument_count > 1 else ""
    return f"{entry.command} {first}{more}".strip()
