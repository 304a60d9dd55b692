"""The restore drill: a backup loaded into a throwaway local redis-server, for the keys area to judge.

`--rdb dump.rdb` is copied into the server's directory before it starts; `--backup FILE` is
validated, then restored into the empty server. Production sees at most one DBSIZE.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

from redis_preflight.backup.format import BackupFileError, rdb_version_read_by, validate
from redis_preflight.backup.restore import Mode, Server, restore
from redis_preflight.config.settings import PreflightSettings
from redis_preflight.config.target import Target
from redis_preflight.ephemeral.local_server import LocalRedis, LocalServerError
from redis_preflight.errors import classify
from redis_preflight.probes.client import open_client
from redis_preflight.probes.cluster import discover, node_target
from redis_preflight.probes.keys.resp import open_pipe

LOAD_TIMEOUT_S = 600.0  # a multi-gigabyte RDB takes minutes to load
AUX = 0xFA


class DrillError(LocalServerError):
    """The backup cannot be loaded locally; the message says why and what to do."""


@dataclass(frozen=True)
class RdbHeader:
    """What an RDB file says of itself before its keys: its format, who wrote it and when."""

    rdb_version: int
    written_by: str | None = None  # the aux field redis-ver
    created_at_s: float | None = None  # the aux field ctime


@dataclass
class Drill:
    """A backup loaded into a local server of ours."""

    source: Path
    kind: str  # "RDB" or "backup"
    created_at_s: float
    keys: int  # in the local server once loaded
    server: LocalRedis
    server_version: str
    live_dbsize: int | None = None  # the live server's, when a --redis-url was given
    live_failure: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def provider(self) -> str:
        return f"restore drill: {self.kind} {self.source.name} in redis-server {self.server_version} (local)"

    def stop(self) -> None:
        self.server.stop()
        shutil.rmtree(self.server.directory, ignore_errors=True)


def count_live(drill: Drill, target: Target, settings: PreflightSettings) -> None:
    """The live server's DBSIZE (each primary's, summed, on a cluster): the drill's one request there."""
    client = open_client(target, settings)
    try:
        topology = discover(client, target)
        nodes = [node_target(target, node.address) for node in topology.primaries] if topology.enabled else []
        total = int(client.dbsize()) if not nodes else 0
        for node in nodes:
            with open_client(node, settings) as each:
                total += int(each.dbsize())
        drill.live_dbsize = total
    except (OSError, redis.RedisError) as e:
        drill.live_failure = f"DBSIZE of {target.redacted}: {classify(e, target)}"
    finally:
        client.close()


def local_version(binary: str = "redis-server") -> str:
    """`redis-server --version` says `Redis server v=7.0.15 ...`."""
    path = shutil.which(binary)
    if path is None:
        raise DrillError(f"{binary} not found on PATH: the drill needs one (apt-get install redis-server)")
    out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10, check=False)  # noqa: S603
    found = re.search(r"v=(\d+\.\d+\.\d+)", out.stdout)
    if found is None:
        raise DrillError(f"{path} --version did not name a version: {out.stdout.strip()!r}")
    return found.group(1)


def start_drill(rdb: Path | None, backup: Path | None) -> Drill:
    """Load whichever backup was given into a fresh local server."""
    version = local_version()
    directory = Path(tempfile.mkdtemp(prefix="redis-preflight-drill-"))
    try:
        if rdb is not None:
            return _rdb_drill(rdb, directory, version)
        if backup is None:
            raise DrillError("the drill needs --rdb FILE or --backup FILE")
        return _backup_drill(backup, directory, version)
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise


def _rdb_drill(path: Path, directory: Path, version: str) -> Drill:
    header = read_rdb_header(path)
    reads = rdb_version_read_by(version)
    if header.rdb_version > reads:
        by = f" (written by Redis {header.written_by})" if header.written_by else ""
        raise DrillError(
            f"{path} is RDB format {header.rdb_version}{by}; the local redis-server {version} reads "
            f"formats up to {reads}: put a redis-server of that version or newer first on PATH"
        )
    shutil.copyfile(path, directory / "dump.rdb")
    server = _start(LocalRedis(directory, ['dbfilename "dump.rdb"']), path)
    keys = _wait_loaded(server, path)
    created = header.created_at_s if header.created_at_s is not None else path.stat().st_mtime
    notes = [] if header.created_at_s is not None else ["the RDB has no ctime: its age is the file's"]
    return Drill(path, "RDB", created, keys, server, version, notes=notes)


def _backup_drill(path: Path, directory: Path, version: str) -> Drill:
    try:
        manifest = validate(path)
    except BackupFileError as e:
        raise DrillError(f"{path}: {e}") from None
    server = _start(LocalRedis(directory), path)
    client = redis.Redis("127.0.0.1", server.port, socket_timeout=60, protocol=2)
    try:
        with open_pipe(client) as pipe:
            tally = restore(manifest, pipe, Server(version, rdb_version_read_by(version)), Mode.EMPTY)
        keys = int(client.dbsize())
    finally:
        client.close()
    if tally.problems:
        server.stop()
        raise DrillError(f"{path}: {tally.problems} keys did not restore: {'; '.join(tally.shown)}")
    notes = [f"{tally.expired:,} keys had expired since the backup"] if tally.expired else []
    return Drill(path, "backup", manifest.created_at_ms / 1000, keys, server, version, notes=notes)


def _start(server: LocalRedis, path: Path) -> LocalRedis:
    try:
        return server.start()
    except LocalServerError as e:
        raise DrillError(f"the local redis-server could not load {path}: {e}") from None


def _wait_loaded(server: LocalRedis, path: Path) -> int:
    """Redis answers LOADING until the RDB is in memory; then DBSIZE is the backup's key count."""
    client = redis.Redis("127.0.0.1", server.port, socket_timeout=10, protocol=2)
    deadline = time.monotonic() + LOAD_TIMEOUT_S
    try:
        while True:
            try:
                return int(client.dbsize())
            except redis.BusyLoadingError:
                if time.monotonic() > deadline:
                    server.stop()
                    raise DrillError(f"{path} did not load in {LOAD_TIMEOUT_S:.0f} s") from None
                time.sleep(0.05)
            except redis.ConnectionError:
                # Redis listens before it loads: a file it cannot read ends the process there.
                server.stop()
                raise DrillError(
                    f"the local redis-server could not load {path}: {server.log_tail()}"
                ) from None
    finally:
        client.close()


def read_rdb_header(path: Path) -> RdbHeader:
    """`REDIS0011`, then the aux fields (redis-ver, ctime, ...) until the first other opcode."""
    with path.open("rb") as file:
        head = file.read(1 << 16)
    if not head.startswith(b"REDIS") or not head[5:9].isdigit():
        raise DrillError(f"{path} is not an RDB file (it does not start with REDIS and a format number)")
    aux: dict[bytes, bytes] = {}
    reader = _Reader(head, 9)
    try:
        while reader.byte() == AUX:
            name = reader.string()
            aux[name] = reader.string()
    except (IndexError, ValueError):
        pass  # a header longer than we read, or an encoding we skip: the fields so far stand
    ctime = aux.get(b"ctime")
    return RdbHeader(
        int(head[5:9]),
        aux[b"redis-ver"].decode(errors="replace") if b"redis-ver" in aux else None,
        float(ctime) if ctime is not None and ctime.isdigit() else None,
    )


class _Reader:
    """RDB string encoding (rdb.c rdbLoadLen / rdbGenericLoadStringObject), enough for aux fields."""

    def __init__(self, data: bytes, at: int) -> None:
        self.data, self.at = data, at

    def byte(self) -> int:
        self.at += 1
        return self.data[self.at - 1]

    def take(self, count: int) -> bytes:
        if self.at + count > len(self.data):
            raise IndexError("past the bytes read")
        self.at += count
        return self.data[self.at - count : self.at]

    def string(self) -> bytes:
        first = self.byte()
        kind, low = first >> 6, first & 0x3F
        if kind == 0:
            return self.take(low)
        if kind == 1:
            return self.take((low << 8) | self.byte())
        if kind == 2:
            return self.take(int.from_bytes(self.take(4 if first == 0x80 else 8), "big"))
        if low > 2:
            raise ValueError("an LZF-compressed aux field")
        return str(int.from_bytes(self.take(1 << low), "little", signed=True)).encode()
