"""The pytest plugin: options, markers, fixtures and report hooks. Behaviour lives elsewhere."""

from __future__ import annotations

import atexit
import os
import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from redis_preflight import fixtures, stash
from redis_preflight.config import rootdir
from redis_preflight.config.fleet import index_of, labels
from redis_preflight.config.options import FLAG, OPTIONS, REPEATABLE
from redis_preflight.config.redact import Redactor, redact_fields
from redis_preflight.config.settings import SettingsError
from redis_preflight.config.target import TargetError
from redis_preflight.contract import ContractError
from redis_preflight.ephemeral.local_server import LocalServerError
from redis_preflight.fixtures import waiting, workers
from redis_preflight.fixtures.fleet import parametrize
from redis_preflight.prepare import prepare, redactor_of
from redis_preflight.probes.bounds import RUN_CLOCK
from redis_preflight.report.files import ReportFiles
from redis_preflight.report.writer import ReportWriter, fleet_header_lines, write_usage_outputs
from redis_preflight.verdict import noperm
from redis_preflight.verdict.outcomes import AREAS, area_of
from redis_preflight.verdict.record import record
from redis_preflight.verdict.summary import Summary

BACKSTOP_TIMEOUT_S = 60.0
ONE_PROCESS = pytest.StashKey[bool]()  # -n turned off: one target


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("redis-preflight")
    for option in OPTIONS:
        dest = f"preflight_{option.field}"
        if option.kind is FLAG:
            group.addoption(option.flag, dest=dest, action="store_const", const=True, help=option.help)
        elif option.kind is REPEATABLE:
            group.addoption(option.flag, dest=dest, action="append", help=option.help)
        else:
            group.addoption(option.flag, dest=dest, type=option.kind, help=option.help)
    group.addoption("--env-file", dest="preflight_env_file", help="env file to read (default .env)")
    parser.addini(
        "redis_preflight", "run the checks even with no target option (the checks' own ini)", "bool"
    )


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, args: list[str]) -> None:
    flags = [option.flag for option in OPTIONS if option.kind is not FLAG]
    rootdir.resettle(early_config, args, [*flags, "--env-file"])


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"area(name): the check's area, one of {', '.join(AREAS)}")
    config.addinivalue_line(
        "markers",
        "severity(default, **per_profile): blocking or advisory, e.g. "
        "severity('advisory', production='blocking')",
    )
    if config.option.help or config.option.markers or config.option.showfixtures or not _active(config):
        return
    started = time.monotonic()
    cli = {option.field: config.getoption(f"preflight_{option.field}") for option in OPTIONS}
    cli["strict"] = True if config.getini("strict") else None
    if config.option.debug:
        atexit.register(_scrub_debug_log, config)
    env_file = _env_file(config)
    try:
        runs = prepare(cli, env_file, config.invocation_params.dir)
    except (SettingsError, TargetError, LocalServerError, ContractError) as e:
        message = redact_fields(str(e))
        given = cli.get("prometheus_file") or os.environ.get("PREFLIGHT_PROMETHEUS_FILE")
        base = config.invocation_params.dir
        write_usage_outputs(
            message, _report_dir(config, cli.get("report_dir")), base / given if given else None
        )
        raise pytest.UsageError(message) from None
    RUN_CLOCK.start(runs[0].settings.run_deadline_s(len(runs)), started)
    config.stash[stash.RUN] = runs[0]
    config.stash[stash.FLEET] = runs
    if workers.keep_one_target_in_process(config, len(runs)):
        config.stash[ONE_PROCESS] = True
    config.stash[stash.REDACTOR] = redactor = redactor_of(runs)
    if not hasattr(config.option, "timeout"):  # -p no:timeout: every Redis call keeps its own timeout
        config.addinivalue_line("markers", "timeout: pytest-timeout's marker (disabled in this run)")
    elif config.getoption("timeout", None) is None and not config.getini("timeout"):
        config.option.timeout = BACKSTOP_TIMEOUT_S
    for module in fixtures.MODULES:
        config.pluginmanager.register(module, module.__name__)
    config.pluginmanager.register(noperm, "redis_preflight.verdict.noperm")
    config.pluginmanager.register(waiting, "redis_preflight.fixtures.waiting")
    files = ReportFiles.under(_report_dir(config, str(runs[0].settings.report_dir)))
    prometheus_file = runs[0].settings.prometheus_file
    writer = ReportWriter(
        Summary.of(runs),
        redactor,
        files,
        runs,
        config.invocation_params.dir / prometheus_file if prometheus_file else None,
    )
    config.pluginmanager.register(writer, "redis_preflight.report")


def _scrub_debug_log(config: pytest.Config) -> None:
    """--debug's log holds every argument and hook call: scrubbed once pytest has closed it."""
    redactor = config.stash.get(stash.REDACTOR, Redactor())
    redactor.scrub_file(config.invocation_params.dir / config.option.debug)


def _active(config: pytest.Config) -> bool:
    """Installed, the plugin loads in every pytest run: it acts only where asked to (a target on
    the command line, or the checks' ini), never on a REDIS_URL meant for someone else's tests."""
    targets = ("preflight_redis_url", "preflight_targets_file")
    return bool(config.getini("redis_preflight")) or any(config.getoption(name) for name in targets)


def _env_file(config: pytest.Config) -> Path | None:
    given: str | None = config.getoption("preflight_env_file")
    base = config.invocation_params.dir
    if given is None:
        default = base / ".env"
        return default if default.is_file() else None
    path = base / given
    # /dev/null or a pipe is an empty (or streamed) env file; only a missing path or a folder is wrong.
    if not path.exists() or path.is_dir():
        raise pytest.UsageError(f"env file {given} from --env-file not found")
    return path


def _report_dir(config: pytest.Config, given: str | None) -> Path:
    return config.invocation_params.dir / (given or "reports")


def pytest_unconfigure(config: pytest.Config) -> None:
    if stash.RUN in config.stash:
        for run in stash.fleet(config):
            run.close()


NO_TIMEOUT = "redis-preflight: -p no:timeout: no backstop timeout per check (every Redis call keeps its own)"


def pytest_report_header(config: pytest.Config) -> list[str]:
    if stash.RUN not in config.stash:
        return []
    notices = [] if hasattr(config.option, "timeout") else [NO_TIMEOUT]
    notices += [workers.ONE_TARGET] if config.stash.get(ONE_PROCESS, False) else []
    return fleet_header_lines(stash.fleet(config)) + notices


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> workers.TargetScheduling | None:
    if stash.RUN not in config.stash or config.option.dist != "load":  # -n's default; --dist wins
        return None
    return workers.TargetScheduling(config, log, labels([run.target for run in stash.fleet(config)]))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if stash.RUN in metafunc.config.stash:
        parametrize(metafunc, stash.fleet(metafunc.config))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Target by target; connection first, then the other areas in a fixed order: reads top down."""
    if stash.RUN in config.stash:
        items.sort(key=lambda item: (index_of(item), _area_rank(item)))
        settings = stash.run(config).settings
        dropped = [item for item in items if not settings.runs_area(area_of(item))]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = [item for item in items if settings.runs_area(area_of(item))]


def _area_rank(item: pytest.Item) -> int:
    return AREAS.index(area_of(item)) if area_of(item) in AREAS else len(AREAS)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    if stash.RUN not in item.config.stash:
        return (yield)
    run = stash.run_of(item)
    fixtures.skip_if_out_of_time(run)
    fixtures.skip_if_stopped_answering(item, run)
    with fixtures.observed(item, run):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    if stash.RUN not in item.config.stash:
        return (yield)
    fixtures.raise_setup_fault(item)
    with fixtures.unverified_past_deadline(stash.run_of(item)):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    config = item.config
    if stash.RUN not in config.stash:
        return report
    run = stash.run_of(item)
    if call.excinfo is not None:
        run.notice(item.name, call.excinfo.value)
    record(item, call, report, run, config.stash[stash.REDACTOR])
    config.stash[stash.REDACTOR].scrub_report(report)
    return report
