"""Where the reports go, the header every output starts with, and the closing summary."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

import pytest

from redis_preflight.config.fleet import labels
from redis_preflight.config.redact import Redactor
from redis_preflight.report.banner import banner_html
from redis_preflight.run import PreflightRun
from redis_preflight.verdict.summary import CheckResult, Summary


def reports_of(directory: Path) -> tuple[Path, Path, Path]:
    return directory / "report.html", directory / "junit.xml", directory / "summary.json"


def header_lines(run: PreflightRun) -> list[str]:
    served = f" [ephemeral: {run.provider}]" if run.provider else ""
    if run.sentinel is not None and run.sentinel.primary is not None:
        served = f" [primary {run.target.address}, named by the sentinels]"
    thresholds = ", ".join(f"{name} {value}" for name, value in run.thresholds().items())
    health = [f"health endpoint: {run.health.redacted}"] if run.health else []
    return [
        f"redis-preflight target: {run.target.redacted}{served}",
        *health,
        f"profile: {run.profile} ({run.profile_reason}); read-only: {not run.settings.allow_write}",
        f"thresholds: {thresholds}",
    ]


def fleet_header_lines(runs: Sequence[PreflightRun]) -> list[str]:
    """One target's header, or a fleet's: each target with its label (the test ids' suffix)."""
    if len(runs) == 1:
        return header_lines(runs[0])
    lines = [f"redis-preflight fleet of {len(runs)} targets; read-only: {not runs[0].settings.allow_write}"]
    for label, run in zip(labels([run.target for run in runs]), runs, strict=True):
        lines += [f"[{label}] " + header_lines(run)[0].removeprefix("redis-preflight target: ")]
        lines += [f"[{label}] " + line for line in header_lines(run)[1:]]
    return lines


class ReportWriter:
    """Registered as a plugin: collects results, writes summary.json, sets the exit code."""

    def __init__(self, summary: Summary, redactor: Redactor, outputs: list[Path]) -> None:
        self.summary = summary
        self.redactor = redactor
        self.outputs = outputs

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.summary.add(report)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self.summary.usage_error = session.exitstatus == pytest.ExitCode.USAGE_ERROR
        session.exitstatus = self.summary.exit_status(session.exitstatus)
        if not hasattr(session.config, "workerinput"):
            self.summary.write(self.outputs[-1])

    @pytest.hookimpl(trylast=True)
    def pytest_unconfigure(self, config: pytest.Config) -> None:
        # html and junit are written after our sessionfinish: scrub them last.
        for path in self.outputs:
            if self.redactor.scrub_file(path):
                print(f"redis-preflight: redacted a secret found in {path}")

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_report_title(self, report: Any) -> None:
        report.title = f"redis-preflight report: {self.summary.target}"

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_summary(self, prefix: list[str]) -> None:
        prefix.extend(banner_html(self.summary))

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_header(self, cells: list[str]) -> None:
        cells[2:2] = [
            '<th class="sortable" data-column-type="target">Target</th>',
            '<th class="sortable" data-column-type="area">Area</th>',
            '<th class="sortable" data-column-type="severity">Severity</th>',
            "<th>Message</th>",
        ]

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_row(self, report: pytest.TestReport, cells: list[str]) -> None:
        properties = dict(report.user_properties)
        cells[2:2] = [
            f'<td class="col-target">{escape(str(properties.get("target", self.summary.target)))}</td>',
            f'<td class="col-area">{escape(str(properties.get("area", "")))}</td>',
            f'<td class="col-severity">{escape(str(properties.get("severity", "")))}</td>',
            f'<td class="col-message">{escape(str(properties.get("message", "")))}</td>',
        ]

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        tr = terminalreporter
        verdict = self.summary.verdict.upper()
        tr.section(f"redis-preflight verdict: {verdict}", green=verdict == "PASS", red=verdict != "PASS")
        fleet = len(self.summary.targets) > 1
        if fleet:
            for target, passed in self.summary.verdicts().items():
                tr.line(f"{passed.upper()} {target}", green=passed == "pass", red=passed != "pass")
                _list(tr, [c for c in self.summary.findings() if c.target == target], indent="  ")
        else:
            _list(tr, self.summary.findings(), indent="")
        blocking = len(self.summary.gating())
        advisory = len(self.summary.findings()) - blocking
        where = f"{len(self.summary.targets)} targets" if fleet else f"target {self.summary.target}"
        tr.line(f"{blocking} gating finding(s), {advisory} advisory; {where}")
        for path in self.outputs:
            tr.line(f"report: {path}")


def _list(tr: pytest.TerminalReporter, findings: list[CheckResult], indent: str) -> None:
    for check in findings:
        tr.line(f"{indent}[{check.severity}] {check.area}: {check.message}  ({check.id})")
