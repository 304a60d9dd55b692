"""Usage errors through the console script: exit 4, one clear line, no traceback, no secret."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import clean_env

SECRET = "LEAKpartB"
LONG_LABEL = "a" * 64
LONG_NAME = ".".join(["b" * 50] * 6)  # 305 characters, every label legal


def targets_file(tmp_path: Path, content: bytes) -> str:
    path = tmp_path / "targets.txt"
    path.write_bytes(content)
    return str(path)


def huge_targets_file(tmp_path: Path) -> str:
    path = tmp_path / "huge.txt"
    with path.open("wb") as file:
        file.truncate(1 << 30)  # sparse: 1 GiB that costs no disk
    return str(path)


def a_file(tmp_path: Path) -> str:
    (tmp_path / "a-file").write_text("not a directory\n")
    return str(tmp_path / "a-file")


# (id, arguments given tmp_path, environment, the message's telling part)
CASES = [
    (
        "binary targets file",
        lambda t: ["--targets-file", targets_file(t, bytes(range(256)) * 4)],
        {},
        "is not UTF-8 text (byte 128): it should list Redis URLs, one per line",
    ),
    (
        "huge targets file",
        lambda t: ["--targets-file", huge_targets_file(t)],
        {},
        "is over 1 MiB: it should list Redis URLs, one per line",
    ),
    (
        "key policies nested 5,000 deep",
        lambda t: ["--redis-url", "redis://127.0.0.1:1/0", "--key-policies", "[" * 5000 + "]" * 5000],
        {},
        "(--key-policies): Value error, JSON nested too deep",
    ),
    (
        "key policies not JSON",
        lambda t: ["--redis-url", "redis://127.0.0.1:1/0", "--key-policies", "{rate_limit: 1}"],
        {},
        "(--key-policies): Value error, not valid JSON (Expecting property name",
    ),
    (
        "-p cacheprovider",
        lambda t: ["--redis-url", "redis://127.0.0.1:1/0", "-p", "cacheprovider"],
        {},
        "-p cacheprovider: redis-preflight runs without pytest's cache",
    ),
    (
        "host label over 63",
        lambda t: ["--redis-url", f"redis://{LONG_LABEL}.example.com:6379/0"],
        {},
        f"the host name label {'a' * 20!r}... is 64 characters, over DNS's 63",
    ),
    (
        "host name over 253",
        lambda t: ["--redis-url", f"redis://{LONG_NAME}:6379/0"],
        {},
        "the host name is 305 characters, over DNS's 253",
    ),
    (
        "health host label over 63",
        lambda t: ["--redis-url", "redis://127.0.0.1:1/0", "--health-url", f"http://{LONG_LABEL}.io/h"],
        {},
        "invalid HEALTH_URL: the host name label",
    ),
    (
        "line break inside one --redis-url",
        lambda t: ["--redis-url", "redis://127.0.0.1:1/0\nredis://127.0.0.1:2/0"],
        {},
        "a --redis-url value holds whitespace (a line break?): give one URL per --redis-url",
    ),
    (
        "unencoded # in the password",
        lambda t: ["--redis-url", f"redis://app:{SECRET}#x@host:6390/0"],
        {},
        "invalid REDIS_URL: the user name or password holds an unencoded #: URL-encode '#' as %23",
    ),
    (
        "unencoded / in REDIS_URL from the environment",
        lambda t: [],
        {"REDIS_URL": f"redis://app:{SECRET}/x@host:6390/0"},
        "invalid REDIS_URL: the user name or password holds an unencoded /: URL-encode '/' as %2F",
    ),
    (
        "unencoded ? and @ in a targets file",
        lambda t: ["--targets-file", targets_file(t, f"redis://:{SECRET}?x@y@host:6390/0\n".encode())],
        {},
        "line 1 of",
    ),
    (
        "unencoded # in the health URL",
        lambda t: ["--redis-url", "redis://127.0.0.1:1/0", "--health-url", f"http://m:{SECRET}#x@h/"],
        {},
        "invalid HEALTH_URL: the user name or password holds an unencoded #: URL-encode '#' as %23",
    ),
    (
        "no @HOST: the password would be taken for a port",
        lambda t: ["--redis-url", f"redis://app:{SECRET}"],
        {},
        "bad port: the text after ':' in the host part is not a number",
    ),
    (
        "mistyped option before a URL",
        lambda t: ["--redis-ur", f"redis://:{SECRET}@127.0.0.1:1/0"],
        {},
        "unrecognized arguments: --redis-ur; values not shown (they may be secrets); "
        "--redis-ur (did you mean --redis-url?)",
    ),
    (
        "a value without its option, taken for a path",
        lambda t: ["--redis-url", "redis://127.0.0.1:1/0", "--tls-insecure", SECRET],
        {},
        "file or directory not found: ***: an argument that is not an option was taken for a path",
    ),
    (
        "mistyped option with a secret value",
        lambda t: ["--redis-url", "redis://127.0.0.1:1/0", "--renamed-comand", SECRET, f"--skipp={SECRET}"],
        {},
        "unrecognized arguments: --renamed-comand --skipp; values not shown",
    ),
]


@pytest.mark.parametrize(("args", "env", "said"), [case[1:] for case in CASES], ids=[c[0] for c in CASES])
def test_usage_error(run_preflight, tmp_path, args, env, said):
    outcome = run_preflight(*args(tmp_path), env=clean_env(**env))
    assert outcome.returncode == 4, outcome.output
    assert said in outcome.output, outcome.output
    assert "Traceback" not in outcome.output
    assert "INTERNALERROR" not in outcome.output
    assert SECRET not in outcome.output
    summary = outcome.summary
    assert summary["verdict"] == "error"
    assert said.partition("(--")[0].removeprefix("invalid REDIS_URL: ")[:40] in summary["error"]
    assert SECRET not in json.dumps(summary)


def test_unencoded_characters_are_each_named(run_preflight, tmp_path):
    outcome = run_preflight(
        "--targets-file", targets_file(tmp_path, f"redis://:{SECRET}?x@y@h:1/0\n".encode())
    )
    assert outcome.returncode == 4, outcome.output
    assert "holds an unencoded ? @: URL-encode '?' as %3F, '@' as %40" in outcome.output


@pytest.mark.parametrize("where", ["an existing file", "a path under a file"])
def test_report_dir_that_cannot_hold_reports(run_preflight, tmp_path, where):
    given = a_file(tmp_path) + ("" if where == "an existing file" else "/reports")
    outcome = run_preflight("--redis-url", "redis://127.0.0.1:1/0", "--report-dir", given)
    assert outcome.returncode == 4, outcome.output
    said = (
        "is a file: give a directory" if where == "an existing file" else "cannot be created: Not a directory"
    )
    assert f"ERROR: report directory {given} from the command line (--report-dir) {said}" in outcome.output
    assert "Traceback" not in outcome.output


def test_db_index_over_databases_names_the_setting(run_preflight, redis_factory):
    server = redis_factory("databases 4")
    outcome = run_preflight("--redis-url", f"redis://127.0.0.1:{server.port}/7", "--only", "connection")
    assert outcome.returncode == 1, outcome.output
    check = outcome.check("test_db_selectable")
    assert (check["outcome"], check["area"]) == ("failed", "connection")
    assert check["message"] == (
        f"DB index is out of range at 127.0.0.1:{server.port}: db 7 does not exist: this server has "
        "`databases` 4 (db 0 to 3); use a lower db in REDIS_URL (usually /0), or raise `databases` "
        "in redis.conf"
    )


def test_debug_log_of_a_usage_error_holds_no_secret(run_preflight, tmp_path):
    outcome = run_preflight("--debug", "--redis-url", f"redis://app:{SECRET}#x@host:6390/0")
    assert outcome.returncode == 4, outcome.output
    log = (tmp_path / "pytestdebug.log").read_text()
    assert "redis://app:***@host:6390/0" in log  # the argument is there, masked
    assert SECRET not in log
