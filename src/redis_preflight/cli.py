"""`redis-preflight --redis-url URL [pytest options]`: the checks, from any directory.

`redis-preflight contract infer --redis-url URL`: a starting key contract from a live keyspace.
`redis-preflight backup ...` and `redis-preflight restore ...` are subcommands of their own.
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
from collections.abc import Generator, Sequence
from importlib.resources import files
from importlib.util import find_spec
from pathlib import Path

import pytest

from redis_preflight.config.options import OPTIONS
from redis_preflight.config.redact import MASK, redact_fields
from redis_preflight.report.files import write_usage_error

PACKAGE = Path(str(files("redis_preflight")))
# The plugins the gate uses. Others installed beside it (hypothesis, benchmark, ...) would cost
# start-up time on every verdict and could change it; `pytest -p redis_preflight.plugin` keeps them.
# Each with the name `-p no:NAME` disables it by (its entry point's name).
PLUGINS = (
    ("timeout", "pytest_timeout"),
    ("xdist", "xdist.plugin"),
    ("xdist", "xdist.looponfail"),
    ("redis_preflight", "redis_preflight.plugin"),
)
UNRECOGNIZED = "unrecognized arguments: "
NOT_FOUND = "file or directory not found: "
STRAY = (
    "an argument that is not an option was taken for a path of checks; a value given without "
    "its option? (not shown: it may be a secret)"
)
NO_CACHE = (
    "-p cacheprovider: redis-preflight runs without pytest's cache (its checks live in the "
    "installed package, where .pytest_cache must not go), so --lf, --ff and --sw are not available; "
    "drop -p cacheprovider"
)


def checks_dir() -> Path:
    """Inside the wheel the checks ship in the package; in a source checkout, beside it."""
    shipped = PACKAGE / "checks"
    return shipped if shipped.is_dir() else PACKAGE.parents[1] / "checks"


def subcommands() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="redis-preflight")
    commands = parser.add_subparsers(dest="command", required=True)
    backup = commands.add_parser("backup", help="export every key (read-only) to a JSON Lines file")
    backup.add_argument("--out", required=True, type=Path, help="the backup file to write")
    backup.add_argument(
        "--match", action="append", default=[], help="only keys matching this glob (repeatable)"
    )
    backup.add_argument("--max-ops-per-sec", type=int, help="throttle: commands per second (default: none)")
    restore = commands.add_parser("restore", help="write a backup into a db, then verify it")
    restore.add_argument("file", type=Path, help="a file written by redis-preflight backup")
    restore.add_argument("--allow-write", action="store_true", help="without it nothing is written")
    mode = restore.add_mutually_exclusive_group()
    mode.add_argument(
        "--replace", action="store_true", help="the file's keys overwrite keys of the same name"
    )
    mode.add_argument("--merge", action="store_true", help="keys already in the db are kept")
    for each in (backup, restore):
        each.add_argument(
            "--redis-url", required=True, help="redis://, rediss://, unix:// or redis+sentinel://"
        )
        each.add_argument("--connect-timeout", type=float, help="seconds for a TCP connect (default 5)")
        each.add_argument("--socket-timeout", type=float, help="seconds for any reply (default 5)")
        each.add_argument(
            "--max-reply-bytes", type=int, help="refuse a larger reply, e.g. a huge value (default 16 MiB)"
        )
        each.add_argument("--tls-ca-file", help="CA bundle (PEM) to verify the server")
        each.add_argument("--tls-cert-file", help="client certificate (PEM)")
        each.add_argument("--tls-key-file", help="the client certificate's private key (PEM)")
        each.add_argument("--tls-insecure", action="store_true", default=None, help="skip certificate checks")
        each.add_argument(
            "--renamed-command",
            action="append",
            metavar="COMMAND=NEW_NAME",
            help="a command the server renamed (repeatable; a secret, never shown)",
        )
    return parser


def run_subcommand(args: list[str]) -> int:
    from redis_preflight.backup import commands
    from redis_preflight.backup.restore import Mode

    options = subcommands().parse_args(args)
    shared = (
        "connect_timeout",
        "socket_timeout",
        "max_reply_bytes",
        "tls_ca_file",
        "tls_cert_file",
        "tls_key_file",
        "tls_insecure",
    )
    settings = {
        name: getattr(options, name) for name in (*shared, "max_ops_per_sec") if hasattr(options, name)
    }
    if getattr(options, "renamed_command", None):
        settings["renamed_command"] = options.renamed_command
    connection = commands.Connection(options.redis_url, settings)
    if options.command == "backup":
        return commands.run(lambda: commands.backup(connection, options.out, options.match))
    mode = Mode.REPLACE if options.replace else Mode.MERGE if options.merge else Mode.EMPTY
    return commands.run(lambda: commands.restore_file(connection, options.file, options.allow_write, mode))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["contract"]:
        from redis_preflight.infer import main as contract

        return contract(args[1:])
    if args[:1] in (["backup"], ["restore"]):
        try:
            return run_subcommand(args)
        except SystemExit as e:  # argparse: --help (0) or a usage error (2, made the gate's 4)
            return 0 if e.code == 0 else 4
    if _asks_for_cache(args):
        return _usage_error(NO_CACHE, args)
    if args[:1] == ["merge"]:
        from redis_preflight.merge import main as merge

        return merge(args[1:])
    checks = checks_dir()
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # inherited by pytest-xdist's workers
    blocked = {arg.removeprefix("-p") for arg in args if arg.removeprefix("-p").startswith("no:")}
    wanted = [
        module for name, module in PLUGINS if f"no:{name}" not in blocked and find_spec(module.split(".")[0])
    ]
    plugins = [arg for module in wanted for arg in ("-p", module)]
    # Our own ini and rootdir: the user's pytest configuration must not leak into the gate. The
    # rootdir is the checks' parent, so a check is named checks/test_keys.py::test_shape[...].
    ini = ["-c", str(PACKAGE / "preflight.ini"), "--rootdir", str(checks.parent)]
    return int(pytest.main([*ini, *plugins, str(checks), *args], plugins=[ArgumentGuard(args)]))


class ArgumentGuard:
    """Rewords pytest's argument errors before they are printed: a mistyped option's value may be
    a password (`--redis-ur redis://:pw@host/0`) or a renamed command's secret name."""

    def __init__(self, args: Sequence[str]) -> None:
        self.args = args

    @pytest.hookimpl(wrapper=True)
    def pytest_cmdline_parse(self) -> Generator[None, pytest.Config, pytest.Config]:
        try:
            return (yield)
        except pytest.UsageError as e:
            raise self._reworded(e) from None

    @pytest.hookimpl(wrapper=True)
    def pytest_cmdline_main(self) -> Generator[None, int, int]:
        """A stray value taken for a path: pytest says `file or directory not found: VALUE`."""
        try:
            return (yield)
        except pytest.UsageError as e:
            raise self._reworded(e) from None

    def _reworded(self, error: pytest.UsageError) -> pytest.UsageError:
        message = reword(" ".join(str(arg) for arg in error.args))
        lines = message.splitlines() or [""]
        said = next((line for line in lines if "error:" in line), lines[0])
        write_usage_error(_report_dir(self.args) / "summary.json", said.partition("error: ")[2] or said)
        return pytest.UsageError(message)


def reword(message: str) -> str:
    """The unrecognized options by name only, with the nearest known option; URLs redacted."""
    if message.startswith(NOT_FOUND):
        return f"{NOT_FOUND}{MASK}: {STRAY}"
    head, found, rest = message.partition(UNRECOGNIZED)
    if not found:
        return redact_fields(message)
    listed, newline, tail = rest.partition("\n")
    names = [word.partition("=")[0] for word in listed.split(" ") if word.startswith("-")]
    shown = " ".join(names) or MASK
    hints = [f"{name} (did you mean {_nearest(name)}?)" for name in names if _nearest(name)]
    said = f"{UNRECOGNIZED}{shown}; values not shown (they may be secrets)"
    said += f"; {', '.join(hints)}" if hints else ""
    return redact_fields(f"{head}{said}{newline}{tail}")


def _nearest(name: str) -> str | None:
    known = [option.flag for option in OPTIONS] + ["--env-file"]
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.75)
    return close[0] if close else None


def _asks_for_cache(args: Sequence[str]) -> bool:
    plugins = [b for a, b in zip(["", *args], args, strict=False) if a == "-p"]
    plugins += [arg[2:].lstrip("=") for arg in args if arg.startswith("-p") and len(arg) > 2]
    return any(name in ("cacheprovider", "_pytest.cacheprovider") for name in plugins)


def _report_dir(args: Sequence[str]) -> Path:
    """Where summary.json goes when the options cannot even be parsed."""
    given = os.environ.get("PREFLIGHT_REPORT_DIR", "reports")
    for before, arg in zip(["", *args], args, strict=False):
        if before == "--report-dir":
            given = arg
        elif arg.startswith("--report-dir="):
            given = arg.partition("=")[2]
    return Path(given)


def _usage_error(message: str, args: Sequence[str]) -> int:
    write_usage_error(_report_dir(args) / "summary.json", message)
    print(f"ERROR: {message}", file=sys.stderr)
    return int(pytest.ExitCode.USAGE_ERROR)


if __name__ == "__main__":
    raise SystemExit(main())
