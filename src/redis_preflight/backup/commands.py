"""`redis-preflight backup` and `restore`: connect, run, say what happened, return the exit code.

Exit codes: 0 done and verified; 1 keys failed or differ after the restore; 2 the file is not a
whole, unedited backup; 3 the server failed (unreachable, an error reply); 4 refused or a usage
error (no --allow-write, a db that is not empty, a bad option).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis

from redis_preflight.backup.export import Exported, Source, export
from redis_preflight.backup.format import BackupFileError, Manifest, rdb_version_read_by, validate
from redis_preflight.backup.progress import TerminalProgress
from redis_preflight.backup.restore import Mode, Server, Tally, restore, verify
from redis_preflight.config.settings import PreflightSettings, SettingsError, load_settings
from redis_preflight.config.target import Target, TargetError, parse_target
from redis_preflight.errors import classify
from redis_preflight.probes.client import open_client
from redis_preflight.probes.cluster import discover, node_target
from redis_preflight.probes.keys.resp import open_pipe
from redis_preflight.probes.sentinel import locate_primary

DONE, DIFFERS, BAD_FILE, SERVER_FAILED, REFUSED = 0, 1, 2, 3, 4


class Stop(Exception):
    """Ends a command early with an exit code and one line for the person."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Connection:
    """The options every subcommand shares."""

    redis_url: str
    settings: dict[str, Any]

    def open(self) -> tuple[Target, PreflightSettings]:
        """Settings and target, validated before any traffic; a sentinel URL becomes its primary."""
        try:
            settings = load_settings({**self.settings, "redis_url": self.redis_url}, None)
            target = parse_target(self.redis_url)
        except (SettingsError, TargetError) as e:
            raise Stop(REFUSED, f"--redis-url: {e}") from None
        if target.sentinels is not None:
            lookup = locate_primary(target, settings)
            if lookup.primary is None:
                raise Stop(SERVER_FAILED, f"{target.redacted}: {lookup.failure}")
            target = replace(target, host=lookup.primary[0], port=lookup.primary[1])
        return target, settings


def run(command: Any) -> int:
    """Run a subcommand function, turning Stop and server failures into a message and a code."""
    try:
        code: int = command()
    except Stop as stop:
        print(f"redis-preflight: {stop}", file=sys.stderr)
        return stop.code
    return code


@contextmanager
def _server(target: Target) -> Iterator[None]:
    """Any Redis or socket failure becomes the gate's one-line diagnosis, and exit code 3."""
    try:
        yield
    except (OSError, redis.RedisError) as e:
        raise Stop(SERVER_FAILED, f"{target.redacted}: {classify(e, target)}") from None


def _version(client: redis.Redis) -> str:
    return str(client.info("server")["redis_version"])


def backup(connection: Connection, out: Path, match: list[str]) -> int:
    target, settings = connection.open()
    client = open_client(target, settings)
    progress = TerminalProgress("backup") if TerminalProgress.wanted() else None
    with _server(target):
        version = _version(client)
        topology = discover(client, target)
        targets = (
            [node_target(target, n.address) for n in topology.primaries] if topology.enabled else [target]
        )
        clients = [open_client(each, settings) for each in targets] if topology.enabled else [client]
        sources = [Source(each, int(_version(each).split(".")[0]) >= 7) for each in clients]
        now = datetime.now(UTC)
        header = {
            "source": target.redacted,
            "server_version": version,
            "created_at": now.isoformat(timespec="seconds"),
            "created_at_ms": int(now.timestamp() * 1000),
            "expiry": "exact" if all(s.exact_expiry for s in sources) else "PTTL: within a round trip",
            "match": match,
            "primaries": len(sources),
        }
        try:
            done: Exported = export(
                sources, out, header, match=match, max_ops_per_sec=settings.max_ops_per_sec, progress=progress
            )
        finally:
            if progress is not None:
                progress.done()
            for each in {id(c): c for c in [client, *clients]}.values():
                each.close()
    rate = done.keys / done.elapsed_s if done.elapsed_s else 0.0
    gone = f" ({done.vanished} deleted or expired while it ran)" if done.vanished else ""
    took = f"{done.elapsed_s:.1f} s ({rate:,.0f} keys/s)"
    print(f"backup: {done.keys:,} keys from {target.redacted} to {out} in {took}{gone}")
    return DONE


def load(path: Path) -> Manifest:
    """The whole file read and checked once before anything is written."""
    try:
        return validate(path)
    except BackupFileError as e:
        raise Stop(BAD_FILE, f"{path}: {e}; nothing was written") from None
    except OSError as e:
        raise Stop(REFUSED, f"{path}: {e.strerror}") from None


def restore_file(connection: Connection, path: Path, allow_write: bool, mode: Mode) -> int:
    manifest = load(path)
    target, settings = connection.open()
    client = open_client(target, settings)
    with _server(target), open_pipe(client) as pipe:
        version = _version(client)
        if discover(client, target).enabled:
            raise Stop(
                REFUSED, f"{target.redacted} is a cluster node: restore into a cluster is not supported yet"
            )
        present = int(pipe.call(b"DBSIZE"))
        where = f"db {target.db} of {target.redacted}"
        if present and mode is Mode.EMPTY:
            raise Stop(
                REFUSED,
                f"{where} holds {present:,} keys: nothing written; give --replace (the file's keys "
                "overwrite keys of the same name) or --merge (keys already there are kept)",
            )
        if not allow_write:
            raise Stop(
                REFUSED,
                f"{path} holds {manifest.keys:,} keys for {where}: nothing written without --allow-write",
            )
        server = Server(version, rdb_version_read_by(version))
        progress = TerminalProgress("restore") if TerminalProgress.wanted() else None
        try:
            written = restore(manifest, pipe, server, mode, progress)
        finally:
            if progress is not None:
                progress.done()
        checked = verify(manifest, pipe, server, mode)
    client.close()
    print(_restored(written, manifest, where))
    print(_verified(checked, mode))
    return DIFFERS if written.problems or checked.problems else DONE


def _restored(tally: Tally, manifest: Manifest, where: str) -> str:
    parts = [f"restore: {tally.done:,} of {manifest.keys:,} keys written to {where}"]
    parts += (
        [f"{tally.typed:,} by typed writes (the server reads an older RDB format)"] if tally.typed else []
    )
    parts += [f"{tally.expired:,} already expired, skipped"] if tally.expired else []
    parts += [f"{tally.kept:,} already there, kept (--merge)"] if tally.kept else []
    parts += [f"{tally.problems:,} failed: {'; '.join(tally.shown)}"] if tally.problems else []
    return ", ".join(parts)


def _verified(tally: Tally, mode: Mode) -> str:
    what = "exist" if mode is Mode.MERGE else "match the file (type, expiry, length)"
    line = f"verify: {tally.done:,} keys {what}"
    line += f", {tally.expired:,} expired since" if tally.expired else ""
    return line + (f", {tally.problems:,} differ: {'; '.join(tally.shown)}" if tally.problems else "")
