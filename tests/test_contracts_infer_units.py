"""How `contract infer` names families and guesses schemas, from values alone."""

from __future__ import annotations

import tomllib
import uuid
from collections import Counter
from pathlib import Path

import pytest

from redis_preflight.contract.file import from_table
from redis_preflight.contract.samples import jwt
from redis_preflight.infer.draft import draft, schema_of, toml_value
from redis_preflight.probes.keys.expiry import busiest_window
from redis_preflight.probes.keys.names import family_prefix, template_of
from redis_preflight.probes.keys.sample import Family, KeyspaceSample


@pytest.mark.parametrize(
    ("key", "template", "prefix"),
    [
        ("session:b2510a4c-5213-4965-94c0-36e2790f7737", "session:{uuid}", "session:"),  # fixed: xdist ids
        ("ws_connections:ws_conn_12", "ws_connections:ws_conn_{n}", "ws_connections:"),
        (f"blacklist:{jwt(2_000_000_000)}", "blacklist:{jwt}", "blacklist:"),
        ("cache:page:ab12cd34ef56aa77", "cache:page:{hex}", "cache:page:"),
        ("user:42:profile", "user:{n}:profile", "user:"),
        ("config:app", "config:app", "config:"),
        ("plain", "plain", "plain"),
    ],
)
def test_families_by_name(key, template, prefix):
    assert template_of(key.encode()) == template.encode()
    assert family_prefix(template.encode()) == prefix.encode()


def test_schema_of_json_values():
    values = [
        {"id": str(uuid.uuid4()), "n": 1, "at": "2026-01-01T00:00:00+00:00", "tag": None, "x": 1.5},
        {"id": str(uuid.uuid4()), "n": 2, "at": "2026-01-02T00:00:00Z", "tag": "a", "x": 2},
        {"id": str(uuid.uuid4()), "n": 3, "at": "2026-01-03T00:00:00+02:00", "tag": "b"},
    ]
    assert schema_of(values) == {
        "type": "object",
        "required": ["id", "n", "at", "tag"],
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "n": {"type": "integer"},
            "at": {"type": "string", "format": "date-time"},
            "tag": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            "x": {"type": "number"},
        },
    }
    assert schema_of([1, "a"]) == {}  # no single type: any value


def test_toml_values_read_back():
    table = {"a": [1, 2.5, 'x"y'], "weird key": {"t": True, "inf": 1e13}}
    assert tomllib.loads(f"v = {toml_value(table)}")["v"] == table


def test_busiest_window():
    assert busiest_window([0, 1000, 1500, 9000, 9100, 9200, 9300], 500) == (4, 9000)
    assert busiest_window([], 500) == (0, 0)


def test_a_draft_loads_as_a_contract():
    counters = Family(b"hits:", Counter({b"hits:{n}": 30}), Counter({"string": 30}), keys=30, with_ttl=30)
    counters.ttl_min_ms, counters.ttl_max_ms = 50_000, 3_500_000
    counters.expiries_ms = [n * 60_000 for n in range(30)]
    counters.values = [b"%d" % n for n in range(30)]
    graph = Family(b"g:", Counter({b"g:{n}": 2}), Counter({"graphdata": 2}), keys=2)
    text = draft(KeyspaceSample({b"hits:": counters, b"g:": graph}, 32, 32, True, 0.1))
    contract = from_table(tomllib.loads(text), Path(), "draft")
    (hits,) = contract.patterns
    assert (hits.name, hits.encoding, hits.ttl.max_ttl.total_seconds()) == ("hits", "json", 7200)
    assert hits.ttl.herd is not None
    assert hits.ttl.herd.max_share == 0.1
    assert "# a graphdata is not a type a contract describes: left out" in text
    assert "# hits:{n}: inferred from 30 keys (string 30)" in text


def test_a_draft_keeps_the_largest_families():
    families = {}
    for n in range(60):
        prefix = f"f{n:02d}:".encode()
        family = Family(
            prefix, Counter({prefix + b"{n}": 100 - n}), Counter({"string": 100 - n}), keys=100 - n
        )
        family.values = [b"x"]
        families[prefix] = family
    text = draft(KeyspaceSample(families, 5000, 5000, True, 0.1, left_out=7))
    contract = from_table(tomllib.loads(text), Path(), "draft")
    assert len(contract.patterns) == 50
    assert contract.patterns[0].name == "f00"
    assert "# 462 keys of smaller families left out: the draft keeps the 50 largest" in text  # 50..41, + 7
