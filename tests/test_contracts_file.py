"""The declarative contract: TOML files and pyproject tables read into the same Contract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import redis
from helpers.keys import seed_defects_a, seed_defects_b

from redis_preflight.contract import ContractError, load_contract
from redis_preflight.contract.file import duration, load_file
from redis_preflight.contract.goals_tracker import CONTRACT
from redis_preflight.contract.samples import seed
from redis_preflight.infer.draft import toml_value
from redis_preflight.probes.keys import take_census
from redis_preflight.probes.keys.census import Bounds, Census

EXAMPLE = Path(__file__).parents[1] / "examples" / "goals_tracker.toml"


def findings(census: Census) -> list[tuple[object, ...]]:
    """What a census says per pattern: counts, TTLs, and each violation's count and example keys."""
    return [
        (p.name, p.count, p.examined, p.with_ttl, p.ttl_buckets, p.types)
        + tuple((v.kind, v.count, tuple(e.key for e in v.examples)) for v in p.violations)
        for p in census.patterns
    ]


@pytest.fixture(scope="module")
def own_redis(redis_factory):
    """A server of this module's own: the keyspaces below are flushed and rewritten."""
    return redis_factory()


@pytest.mark.parametrize("seeder", [seed, seed_defects_a, seed_defects_b])
def test_example_file_is_the_default_contract(own_redis, seeder):
    r = redis.Redis(port=own_redis.port, socket_timeout=5, protocol=2)
    r.flushdb()
    seeder(r)
    from_file = load_file(EXAMPLE)
    assert from_file.names == CONTRACT.names
    for mine, default in zip(from_file.patterns, CONTRACT.patterns, strict=True):
        assert (mine.prefix, mine.type, mine.ttl, mine.secret_in_name) == (
            default.prefix,
            default.type,
            default.ttl,
            default.secret_in_name,
        )
    python, toml = (take_census([r], c, Bounds(full_scan=True)) for c in (CONTRACT, from_file))
    assert findings(toml) == findings(python)
    if seeder is not seed:
        assert any(p.violations for p in toml.patterns)


def test_pyproject_table(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "app"\n\n[[tool.redis-preflight.contract.patterns]]\n'
        'name = "queue"\nprefix = "jobs:"\ntype = "list"\nencoding = "json"\n'
        'schema = { type = "object", required = ["id"], properties = { id = { type = "integer" } } }\n'
        "members = { max = 1000 }\nttl = { required = false }\n"
    )
    contract = load_contract(str(tmp_path / "pyproject.toml"), {})
    (queue,) = contract.patterns
    assert (queue.type, queue.max_members, queue.ttl.required) == ("list", 1000, False)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "app"\n')
    with pytest.raises(ContractError, match=r"has no \[tool.redis-preflight.contract\] table"):
        load_file(tmp_path / "pyproject.toml")


def test_schema_file_model_and_jsonschema_fallback(tmp_path):
    (tmp_path / "order.json").write_text(
        json.dumps({"type": "object", "oneOf": [{"required": ["sku"]}, {"required": ["bundle"]}]})
    )
    (tmp_path / "c.toml").write_text(
        '[[patterns]]\nname = "order"\nprefix = "order:"\nschema_file = "order.json"\n\n'
        '[[patterns]]\nname = "limits"\nprefix = "limit:"\n'
        'model = "redis_preflight.contract.goals_tracker:WsConnection"\n'
    )
    contract = load_file(tmp_path / "c.toml")
    order = contract.pattern("order").validator()
    assert order is not None
    order.validate_python([b'{"sku": "a"}'])
    with pytest.raises(ValueError, match=r"oneOf"):
        order.validate_python([b'{"sku": "a", "bundle": 1}'])
    assert contract.pattern("limits").value.__name__ == "WsConnection"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[patterns]]\nname = "a"\nprefix = "a:"\nttl = { max = "soon" }\n', "duration 'soon'"),
        ('[[patterns]]\nname = "a"\nprefix = "a:"\ncolour = 1\n', "unknown keys colour"),
        ('[[patterns]]\nname = "a"\nprefix = "a:"\nschema = { type = "nope" }\n', "invalid JSON Schema"),
        ('[[patterns]]\nname = "a"\nprefix = "a:"\ntype = "hash"\nfields = { n = "int" }\n', "field n: type"),
        ('[[patterns]]\nname = "a"\nprefix = "a:"\nscores = { max = 1 }\n', "a score range needs type zset"),
        ("patterns = [", "cannot be read"),
    ],
)
def test_bad_contract_files_are_usage_errors(tmp_path, text, message):
    (tmp_path / "c.toml").write_text(text)
    with pytest.raises(ContractError, match=message):
        load_file(tmp_path / "c.toml")


def test_durations():
    assert [duration(v).total_seconds() for v in (90, "90s", "15min", "2h", "7d", "500ms")] == [
        90,
        90,
        900,
        7200,
        604800,
        0.5,
    ]


@pytest.mark.parametrize(
    ("schema", "good", "bad"),
    [
        ({"type": "object", "required": ["id"]}, b'{"id": 1}', b'{"other": 1}'),
        (
            {"type": "string", "format": "date-time", "maxLength": 25},
            b'"2026-01-01T00:00:00Z"',
            b'"2026-01-01T00:00:00.000000+00:00"',
        ),
        ({"type": "integer", "anyOf": [{"minimum": 5}]}, b"7", b"3"),
        ({"type": "object", "additionalProperties": False}, b"{}", b'{"a": 1}'),
        ({"type": "array", "items": {"type": "integer"}, "maxItems": 2}, b"[1, 2]", b"[1, 2, 3]"),
        ({"type": ["string", "null"]}, b"null", b"1"),
        ({"type": "object", "properties": {"n": {"type": "integer"}}}, b'{"n": 1}', b'{"n": "1"}'),
    ],
)
def test_schemas_mean_what_json_schema_says(tmp_path, schema, good, bad):
    (tmp_path / "c.toml").write_text(
        f'[[patterns]]\nname = "a"\nprefix = "a:"\nextra_fields = true\nschema = {toml_value(schema)}\n'
    )
    validator = load_file(tmp_path / "c.toml").pattern("a").validator()
    assert validator is not None
    validator.validate_python([good])
    with pytest.raises(ValueError):  # noqa: PT011 - pydantic's or jsonschema's words: both are ValueErrors
        validator.validate_python([bad])
