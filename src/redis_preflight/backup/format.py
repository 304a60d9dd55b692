"""The backup file: JSON Lines, a header, one line per key, a trailer; every line self-checked.

Each line ends with `,"crc":"XXXXXXXX"}`, the CRC-32 of the line before it, so an edited line is
named; the trailer holds the number of keys and a SHA-256 of every line before it, so a missing,
added or reordered line, or a truncated file, is detected too. Names and values are text where
they are UTF-8 and `{"b64": ...}` where they are not.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii as quote  # the C encoder json.dumps uses
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

import orjson

FORMAT = "redis-preflight-backup"
VERSION = 1
_CRC_TAIL = b',"crc":"%08x"}\n'
_CRC_TAIL_LEN = len(_CRC_TAIL % 0)
_CRC_TAIL_SHAPE = re.compile(rb',"crc":"([0-9a-f]{8})"\}\n')
# RDB format each Redis line writes (and the newest it reads): rdb.h RDB_VERSION.
RDB_VERSIONS = ((7, 4, 12), (7, 2, 11), (7, 0, 10), (5, 0, 9), (4, 0, 8), (3, 2, 7), (2, 6, 6))

Bytesafe = str | dict[str, str]


class BackupFileError(ValueError):
    """A file that is not a whole, unedited backup; the message names the line."""

    def __init__(self, line: int, problem: str) -> None:
        super().__init__(f"line {line}: {problem}")
        self.line = line


def text(raw: bytes) -> Bytesafe:
    """UTF-8 as a JSON string; anything else as {"b64": ...}."""
    try:
        return raw.decode()
    except UnicodeDecodeError:
        return {"b64": base64.b64encode(raw).decode()}


def raw(value: Bytesafe) -> bytes:
    """The bytes `text` was given."""
    return value.encode() if isinstance(value, str) else base64.b64decode(value["b64"], validate=True)


def rdb_version_read_by(redis_version: str) -> int:
    """The newest RDB format a Redis version reads (Redis 7.4 and later: 12, as far as we know)."""
    major, minor = (int(part) for part in (redis_version.split(".") + ["0"])[:2])
    return next((rdb for a, b, rdb in RDB_VERSIONS if (major, minor) >= (a, b)), 6)


def payload_rdb_version(payload: bytes) -> int:
    """A DUMP payload ends with its RDB version (2 bytes, little-endian) and a CRC-64 (8 bytes)."""
    return int.from_bytes(payload[-10:-8], "little")


def _json(value: Any) -> str:
    """The same text as json.dumps, sooner for the common case of a string."""
    return quote(value) if type(value) is str else json.dumps(value, separators=(",", ":"))


def line_of(record: dict[str, Any]) -> bytes:
    """One JSON line with its own CRC-32."""
    body = json.dumps(record, separators=(",", ":")).encode()[:-1]
    return body + _CRC_TAIL % zlib.crc32(body)


def _checked(line: bytes, number: int) -> dict[str, Any]:
    """The record of a line whose CRC matches; BackupFileError otherwise."""
    _crc_matches(line, number)
    try:
        record: dict[str, Any] = orjson.loads(line[:-_CRC_TAIL_LEN] + b"}")
    except ValueError as e:
        raise BackupFileError(number, f"not JSON ({e})") from None
    return record


def _crc_matches(line: bytes, number: int) -> None:
    shape = _CRC_TAIL_SHAPE.fullmatch(line[-_CRC_TAIL_LEN:])
    if shape is None:
        ended = "" if line.endswith(b"\n") else " (the file ends inside it: truncated?)"
        raise BackupFileError(number, f"not a redis-preflight backup line{ended}")
    body = line[:-_CRC_TAIL_LEN]
    if zlib.crc32(body) != int(shape.group(1), 16):
        raise BackupFileError(number, "edited: its CRC-32 does not match its content")


class Writer:
    """Writes a backup line by line; `close` adds the trailer, so an interrupted file has none."""

    def __init__(self, path: Path, header: dict[str, Any]) -> None:
        self.file: BinaryIO = path.open("wb")
        self.digest = hashlib.sha256()
        self.keys = 0
        self._write(line_of({"format": FORMAT, "version": VERSION, **header}))

    def key(self, name: bytes, kind: str, expires_at_ms: int | None, value: Any, dump: bytes) -> None:
        # Built by hand: json.dumps of a dict costs twice as much, and a backup writes millions.
        expiry = "null" if expires_at_ms is None else expires_at_ms
        payload = binascii.b2a_base64(dump, newline=False).decode()
        body = (
            f'{{"key":{_json(text(name))},"type":"{kind}","pexpireat":{expiry},'
            f'"value":{_json(value)},"dump":"{payload}"'
        )
        line = body.encode()
        self._write(line + _CRC_TAIL % zlib.crc32(line))
        self.keys += 1

    def _write(self, line: bytes) -> None:
        self.digest.update(line)
        self.file.write(line)

    def close(self, **extra: Any) -> None:
        trailer = {"end": True, "keys": self.keys, "sha256": self.digest.hexdigest(), **extra}
        self.file.write(line_of(trailer))
        self.file.close()


@dataclass(frozen=True)
class Manifest:
    """What a validated file holds: its header, its trailer, and where its keys came from."""

    path: Path
    header: dict[str, Any]
    trailer: dict[str, Any]

    @property
    def keys(self) -> int:
        return int(self.trailer["keys"])

    @property
    def created_at_ms(self) -> int:
        return int(self.header["created_at_ms"])


def validate(path: Path) -> Manifest:
    """Read the whole file once: header, every line's CRC, count and SHA-256 against the trailer."""
    digest = hashlib.sha256()
    header: dict[str, Any] | None = None
    keys = 0
    with path.open("rb") as file:
        for number, line in enumerate(file, 1):
            if header is None:
                header = _header(line, number)
            elif line.startswith(b'{"end"'):
                trailer = _checked(line, number)
                _match(trailer, keys, digest.hexdigest(), number)
                if file.read(1):
                    raise BackupFileError(number + 1, "text after the trailer")
                return Manifest(path, header, trailer)
            else:
                _crc_matches(line, number)
                keys += 1
            digest.update(line)
    lines = 0 if header is None else keys + 1
    raise BackupFileError(lines + 1, f"the file ends after {lines} lines without a trailer: truncated")


def _header(line: bytes, number: int) -> dict[str, Any]:
    if not line.startswith(b'{"format":"%s"' % FORMAT.encode()):
        raise BackupFileError(number, f"not a {FORMAT} file (its first line is not our header)")
    header = _checked(line, number)
    if header.get("version") != VERSION:
        raise BackupFileError(number, f"format version {header.get('version')!r}: this tool reads {VERSION}")
    return header


def _match(trailer: dict[str, Any], keys: int, sha256: str, number: int) -> None:
    if trailer.get("keys") != keys:
        raise BackupFileError(number, f"the trailer counts {trailer.get('keys')} keys, the file holds {keys}")
    if trailer.get("sha256") != sha256:
        raise BackupFileError(number, "the SHA-256 of the lines does not match the trailer's: lines moved")


class KeyRecord(NamedTuple):
    """One key of the file."""

    line: int
    name: bytes
    type: str
    expires_at_ms: int | None
    dump_base64: str  # decoded only by the pass that sends it (the verification does not)
    value: Any

    @property
    def dump(self) -> bytes:
        return binascii.a2b_base64(self.dump_base64)


def records(path: Path) -> Iterator[KeyRecord]:
    """The key lines of a file `validate` accepted, one at a time."""
    with path.open("rb") as file:
        next(file)
        for number, line in enumerate(file, 2):
            if line.startswith(b'{"end"'):
                return
            try:
                record = orjson.loads(line)  # the CRC is a field of the line's JSON
                name = record["key"]
                yield KeyRecord(
                    number,
                    name.encode() if type(name) is str else raw(name),
                    record["type"],
                    record["pexpireat"],
                    record["dump"],
                    record["value"],
                )
            except (ValueError, KeyError, TypeError) as e:
                raise BackupFileError(number, f"a key line without a valid {e}") from None
