"""The report plugin: follows the run, then writes summary.json, junit.xml and report.html from the
same results, sets the exit code, and ends the terminal with the verdict."""

from __future__ import annotations

import signal
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from redis_preflight import stash
from redis_preflight.config.redact import Redactor
from redis_preflight.report.files import ReportFiles, write_atomically, write_json, write_usage_error
from redis_preflight.report.github import append_step_summary, step_summary_path
from redis_preflight.report.html import report_html, verdict_words
from redis_preflight.report.junit import junit_xml
from redis_preflight.report.prometheus import write_prometheus_file
from redis_preflight.run import PreflightRun
from redis_preflight.verdict.outcomes import CheckResult, Outcome, area_of, severity_of
from redis_preflight.verdict.record import result_of, teststatus
from redis_preflight.verdict.summary import Planned, Summary, usage_error_document


def header_lines(run: PreflightRun) -> list[str]:
    served = f" [ephemeral: {run.provider}]" if run.provider else ""
    if run.sentinel is not None and run.sentinel.primary is not None:
        served = f" [primary {run.target.address}, named by the sentinels]"
    thresholds = ", ".join(f"{name} {value}" for name, value in run.thresholds().items())
    health = [f"health endpoint: {run.health.redacted}"] if run.health else []
    token = [f"auth token: {run.token.name}, refreshed before it expires"] if run.token else []
    return [
        f"redis-preflight target: {run.target.redacted}{served}",
        f"provider: {run.hosting}",
        *token,
        *health,
        f"profile: {run.profile} ({run.profile_reason}); read-only: {not run.settings.allow_write}",
        f"thresholds: {thresholds}",
    ]


def fleet_header_lines(runs: Sequence[PreflightRun]) -> list[str]:
    """One target's header, or a fleet's: each target with its label (the test ids' suffix)."""
    if len(runs) == 1 and not runs[0].label:
        return header_lines(runs[0])
    lines = [f"redis-preflight fleet of {len(runs)} targets; read-only: {not runs[0].settings.allow_write}"]
    for run in runs:
        lines += [f"[{run.label}] " + header_lines(run)[0].removeprefix("redis-preflight target: ")]
        lines += [f"[{run.label}] " + line for line in header_lines(run)[1:]]
    return lines


def write_pipeline_outputs(
    document: dict[str, Any], prometheus_file: Path | None, scrub: Callable[[str], str]
) -> None:
    """The GitHub job summary (when GITHUB_STEP_SUMMARY is set) and --prometheus-file."""
    step_summary = step_summary_path()
    if step_summary is not None:
        append_step_summary(document, step_summary, scrub)
    if prometheus_file is not None:
        write_prometheus_file(document, prometheus_file, scrub)


def write_usage_outputs(message: str, report_dir: Path, prometheus_file: Path | None) -> None:
    """A run that could not start: summary.json (where the report directory allows), the job
    summary and the Prometheus file all say why, with the usage error's verdict."""
    write_usage_error(ReportFiles.under(report_dir).summary, message)
    write_pipeline_outputs(usage_error_document(message), prometheus_file, Redactor().scrub)


class ReportWriter:
    """Registered as a plugin on the controller: one result per check, the reports at the end."""

    def __init__(
        self,
        summary: Summary,
        redactor: Redactor,
        files: ReportFiles,
        runs: Sequence[PreflightRun],
        prometheus_file: Path | None = None,
    ) -> None:
        self.summary = summary
        self.redactor = redactor
        self.files = files
        self.runs = runs
        self.prometheus_file = prometheus_file
        self.collect_only = False

    def pytest_configure(self, config: pytest.Config) -> None:
        self.collect_only = bool(config.option.collectonly)
        self.files.clear()  # no earlier run's reports may be read as this one's, even if we die
        if not self.collect_only:
            signal.signal(signal.SIGTERM, _interrupt)

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        if not self.collect_only:
            for run in self.runs:  # who runs each target and what it allows: asked once, at start
                self.summary.learned(run)
        terminal = session.config.pluginmanager.get_plugin("terminalreporter")
        if terminal is not None:
            # Checks are named from the rootdir (checks/test_keys.py), not by their path inside
            # a virtual environment relative to wherever the command was started.
            terminal.startpath = session.config.rootpath

    def pytest_deselected(self, items: Sequence[pytest.Item]) -> None:
        self.summary.deselected.update((item.nodeid, _planned(item)) for item in items)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.summary.plan(_planned(item) for item in session.items)
        option = session.config.option
        selection = [f"-k {option.keyword}"] if option.keyword else []
        selection += [f"-m {option.markexpr}"] if option.markexpr else []
        settings = self.runs[0].settings
        selection += [f"--only {','.join(settings.only)}"] if settings.only else []
        selection += [f"--skip {','.join(settings.skip)}"] if settings.skip else []
        self.summary.selection = selection

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: Sequence[str]) -> None:
        """With -n, the controller collects nothing: the workers' ids are the plan (of unknown
        severity, so a check left unrun counts as blocking)."""
        if not self.summary.planned:
            target = self.summary.target if len(self.summary.targets) == 1 else ""
            self.summary.plan(Planned(i, _area_of_path(i), "blocking", target) for i in ids)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            last = str(report.longrepr).strip().splitlines()[-1] if report.longrepr else "unknown"
            where = report.nodeid or "the checks"
            self.summary.broken = self.redactor.scrub(f"collection error in {where}: {last}")

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        result = result_of(report)
        if result is not None:
            self.summary.add(result)

    @pytest.hookimpl(tryfirst=True)
    def pytest_report_teststatus(self, report: pytest.TestReport) -> Any:
        return teststatus(report) if report.when in ("setup", "call") else None

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        why = "SIGTERM" if isinstance(excinfo.value, Terminated) else "SIGINT"
        self.summary.ended_early = f"interrupted ({why}): the run stopped before this check"

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.collect_only or hasattr(session.config, "workerinput"):
            return
        if exitstatus == pytest.ExitCode.INTERNAL_ERROR and self.summary.broken is None:
            self.summary.broken = "internal error in redis-preflight: see the terminal output"
        if exitstatus == pytest.ExitCode.USAGE_ERROR and self.summary.broken is None:
            self.summary.broken = "usage error: see the terminal output"
        if self.summary.ended_early is None and (session.shouldstop or session.shouldfail):
            self.summary.ended_early = f"the run stopped early ({session.shouldstop or session.shouldfail})"
        session.exitstatus = self.summary.exit_status(exitstatus)
        self.write(session.config)

    def write(self, config: pytest.Config) -> None:
        """Every report from the one summary, scrubbed, each written whole."""
        environment = fleet_header_lines(self.runs)
        scrub = self.redactor.scrub
        document = _scrubbed(self.summary.as_dict(), scrub)
        write_json(self.files.summary, document)
        write_atomically(self.files.junit, scrub(junit_xml(self.summary)))
        write_atomically(self.files.html, scrub(report_html(self.summary, environment)))
        write_pipeline_outputs(document, self.prometheus_file, scrub)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self.collect_only:
            terminalreporter.line("redis-preflight: --collect-only gives no verdict; no report written")
            return
        tr = terminalreporter
        verdict = self.summary.verdict.value
        tr.section(
            f"redis-preflight verdict: {verdict_words(self.summary)}",
            green=verdict == "pass",
            red=verdict == "fail",
            yellow=verdict not in ("pass", "fail"),
        )
        fleet = len(self.summary.targets) > 1
        for target, each in self.summary.verdicts().items() if fleet else []:
            tr.line(f"{each.upper()} {target}", green=each == "pass", red=each != "pass")
        checks = self.summary.checks
        gating, unverified = self.summary.gating(checks), self.summary.unverified(checks)
        advisory = [c for c in checks if c.outcome == Outcome.ADVISORY and c not in gating]
        for check in [*gating, *unverified, *advisory]:
            _line(tr, check)
        where = f"{len(self.summary.targets)} targets" if fleet else f"target {self.summary.target}"
        counts = f"{len(gating)} gating finding(s), {len(unverified)} blocking check(s) unverified"
        tr.line(f"{counts}, {len(advisory)} advisory; {where}")
        for path in [*self.files, *([self.prometheus_file] if self.prometheus_file else [])]:
            tr.line(f"report: {path}")


class Terminated(KeyboardInterrupt):
    """SIGTERM, turned into pytest's own interrupt so that the reports are still written."""


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise Terminated()


def _planned(item: pytest.Item) -> Planned:
    run = stash.run_of(item)
    return Planned(item.nodeid, area_of(item), str(severity_of(item, run.profile)), run.target.redacted)


def _area_of_path(check_id: str) -> str:
    """checks/test_keys.py::test_ttl[...] -> keys; the marker says it where the item is known."""
    return check_id.split("::")[0].rsplit("/", 1)[-1].removeprefix("test_").removesuffix(".py")


def _line(tr: pytest.TerminalReporter, check: CheckResult) -> None:
    word = "unverified" if check.outcome == Outcome.UNVERIFIED else check.severity
    tr.line(f"[{word}] {check.area}: {check.message}  ({check.id})")


def _scrubbed(value: Any, scrub: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, list):
        return [_scrubbed(v, scrub) for v in value]
    if isinstance(value, dict):
        return {k: _scrubbed(v, scrub) for k, v in value.items()}
    return value
