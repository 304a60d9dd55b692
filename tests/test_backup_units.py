"""The backup's small parts: Redis globs, RDB versions, bytes-safe text, the RDB header."""

from __future__ import annotations

import time

import pytest
import redis

from redis_preflight.backup.drill import read_rdb_header
from redis_preflight.backup.export import glob_regex
from redis_preflight.backup.format import payload_rdb_version, raw, rdb_version_read_by, text
from redis_preflight.backup.values import typed_writes


@pytest.mark.parametrize(
    ("pattern", "name", "matches"),
    [
        ("user_session:*", b"user_session:42", True),
        ("user_session:*", b"user_sessions:42", False),
        ("h?llo", b"hallo", True),
        ("h[ae]llo", b"hello", True),
        ("h[^e]llo", b"hello", False),
        ("h[a-c]llo", b"hbllo", True),
        ("a\\*b", b"a*b", True),
        ("a\\*b", b"axb", False),
        ("*", b"line\nbreak\xff", True),
    ],
)
def test_glob_regex_matches_as_redis_does(pattern, name, matches):
    assert bool(glob_regex(pattern).match(name)) is matches


@pytest.mark.parametrize(
    ("version", "rdb"),
    [("6.2.14", 9), ("7.0.15", 10), ("7.2.4", 11), ("7.4.1", 12), ("8.2.3", 12), ("4.0", 8)],
)
def test_rdb_version_read_by(version, rdb):
    assert rdb_version_read_by(version) == rdb


@pytest.mark.parametrize("data", [b"plain", "ñandú".encode(), b"\xff\x00", b""])
def test_text_is_bytes_safe(data):
    assert raw(text(data)) == data


def test_binary_is_base64_and_text_stays_text():
    assert text(b"\xff") == {"b64": "/w=="}
    assert text("ñ".encode()) == "ñ"


def test_a_module_value_needs_its_payload():
    with pytest.raises(ValueError, match="a ReJSON-RL value can only be restored from its DUMP payload"):
        list(typed_writes("ReJSON-RL", b"k", None))


def test_payload_version_and_rdb_header_of_a_real_server(redis_factory):
    server = redis_factory()
    client = redis.Redis(port=server.port, socket_timeout=5)
    client.set("k", "v")
    assert payload_rdb_version(client.dump("k")) == 10  # Redis 7.0
    client.save()
    header = read_rdb_header(server.directory / "dump.rdb")
    assert (header.rdb_version, header.written_by) == (10, "7.0.15")
    assert header.created_at_s is not None
    assert abs(header.created_at_s - time.time()) < 60
