"""--renamed-command: a server that renamed CONFIG (and others) to secret names.

The checks that read CONFIG run under the new name instead of skipping, and the new name
appears in no output: terminal, report.html, junit.xml, summary.json.
"""

from __future__ import annotations

import pytest
import redis

from conftest import clean_env
from redis_preflight.config.renamed import CommandNames, parse_renames
from redis_preflight.config.settings import PreflightSettings
from redis_preflight.config.target import parse_target
from redis_preflight.probes.client import open_client
from redis_preflight.probes.keys.resp import Wire

CONFIG_NAME = "b840fc02d524045429941cc15f59e41cb7be6c52"
SLOWLOG_NAME = "slowlog-7f3a9c"
CONFIG_READERS = ("test_protected_mode", "test_bind_interfaces", "test_persistence_enabled")


@pytest.fixture(scope="module")
def renamed_redis(redis_factory):
    return redis_factory(
        f"rename-command CONFIG {CONFIG_NAME}", f"rename-command SLOWLOG {SLOWLOG_NAME}", "maxmemory 64mb"
    )


def by_name(outcome) -> dict[str, dict]:
    return {check["id"].split("::")[-1]: check for check in outcome.summary["checks"]}


def test_renamed_config_is_read_and_never_shown(run_preflight, renamed_redis):
    outcome = run_preflight(
        "--redis-url",
        renamed_redis.url,
        "--profile",
        "remote",
        "--renamed-command",
        f"CONFIG={CONFIG_NAME}",
    )
    checks = by_name(outcome)
    assert not [c for c in checks.values() if c["outcome"] == "error"], outcome.output
    # bind and protected-mode come only from CONFIG GET: judged, not skipped.
    for name in CONFIG_READERS:
        assert checks[name]["outcome"] in ("passed", "failed", "advisory"), checks[name]
    assert "read from INFO" not in checks["test_memory_headroom"]["message"]
    assert outcome.summary["targets"][0]["capabilities"]["CONFIG GET"] == "available"
    assert CONFIG_NAME not in outcome.outputs()


def test_renamed_commands_from_the_environment(run_preflight, renamed_redis):
    env = clean_env(PREFLIGHT_RENAMED_COMMAND=f"CONFIG={CONFIG_NAME},SLOWLOG={SLOWLOG_NAME}")
    outcome = run_preflight("--redis-url", renamed_redis.url, env=env)
    table = outcome.summary["targets"][0]["capabilities"]
    assert (table["CONFIG GET"], table["SLOWLOG GET"]) == ("available", "available")
    assert "slow commands logged" in by_name(outcome)["test_server_snapshot"]["message"]
    text = outcome.outputs()
    assert CONFIG_NAME not in text
    assert SLOWLOG_NAME not in text


def test_without_the_option_the_same_checks_say_why(run_preflight, renamed_redis):
    outcome = run_preflight("--redis-url", renamed_redis.url, "--profile", "remote")
    checks = by_name(outcome)
    assert outcome.summary["targets"][0]["capabilities"]["CONFIG GET"] == "blocked"
    for name in ("test_protected_mode", "test_bind_interfaces"):
        assert checks[name]["outcome"] == "unverified", checks[name]
        assert "--renamed-command" in checks[name]["message"], checks[name]
    assert CONFIG_NAME not in outcome.outputs()


def test_a_wrong_new_name_is_not_shown_either(run_preflight, renamed_redis):
    wrong = "not-the-right-name-0451"
    outcome = run_preflight("--redis-url", renamed_redis.url, "--renamed-command", f"CONFIG={wrong}")
    assert outcome.summary["targets"][0]["capabilities"]["CONFIG GET"] == "blocked"
    assert wrong not in outcome.outputs()


def test_a_malformed_item_is_a_usage_error_that_hides_the_name(run_preflight, renamed_redis):
    outcome = run_preflight("--redis-url", renamed_redis.url, "--renamed-command", "CONFIG secret-name")
    assert outcome.returncode == 4, outcome.output
    assert "COMMAND=NEW_NAME" in outcome.output
    assert "secret-name" not in outcome.outputs()


def test_every_sender_uses_the_map(renamed_redis):
    """redis-py commands, pipelines and subcommands spelled in one string all go renamed.

    Pins redis-py's `command_packer` Connection argument across the versions we allow.
    """
    settings = PreflightSettings(renamed_command=[f"CONFIG={CONFIG_NAME}"])  # type: ignore[call-arg]
    client = open_client(parse_target(renamed_redis.url), settings)
    try:
        assert client.config_get("maxmemory") == {"maxmemory": str(64 * 2**20)}
        assert client.execute_command("CONFIG GET", "maxclients")
        with client.pipeline(transaction=False) as pipe:
            pipe.config_get("maxmemory-policy")
            pipe.ping()
            assert pipe.execute()[1] is True
    finally:
        client.close()
    plain = redis.Redis(port=renamed_redis.port)
    with pytest.raises(redis.ResponseError, match="unknown command"):
        plain.config_get("maxmemory")


def test_parse_renames():
    names = CommandNames.of(parse_renames(["config=abc", " SLOWLOG = def "]))
    assert names.wire(b"CONFIG") == b"abc"
    assert names.wire("slowlog") == b"def"
    assert names.args(("CONFIG GET", "x")) == (b"abc", "GET", "x")
    assert names.args(("PING",)) == (b"PING",)
    assert names.secrets == ("abc", "def")
    with pytest.raises(ValueError, match="one word"):
        parse_renames(["CONFIG="])


def test_raw_resp_headers_go_through_the_same_map():
    """The census's prebuilt RESP: unchanged without renames, the new name in the header with them."""
    plain = Wire()
    assert plain.head(b"PTTL", 2) == b"*2\r\n$4\r\nPTTL\r\n"
    assert plain.mget([b"$1\r\na\r\n"]) == b"*2\r\n$4\r\nMGET\r\n$1\r\na\r\n"
    assert (
        plain.command(b"SCAN", b"0", b"COUNT", 10)
        == b"*4\r\n$4\r\nSCAN\r\n$1\r\n0\r\n$5\r\nCOUNT\r\n$2\r\n10\r\n"
    )
    renamed = Wire(CommandNames.of(parse_renames(["SCAN=s-1", "MEMORY=m-22"])))
    assert renamed.command(b"SCAN", b"0") == b"*2\r\n$3\r\ns-1\r\n$1\r\n0\r\n"
    assert renamed.each((b"MEMORY", b"USAGE"), [b"k"]) == b"*3\r\n$4\r\nm-22\r\n$5\r\nUSAGE\r\n$1\r\nk\r\n"
    assert renamed.head(b"TYPE", 2) == b"*2\r\n$4\r\nTYPE\r\n"
