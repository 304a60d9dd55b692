"""Each check's result, recorded once where its report is made, and spoken in pytest's own words.

The record travels in the report's user_properties (the one channel pytest-xdist carries from a
worker back to the controller); the pytest report is then rewritten so that pytest, -x and any
other consumer see the same outcome: an advisory finding is not a failure, a check that could not
run is not an error.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import pytest

from redis_preflight.config.redact import Redactor
from redis_preflight.run import PreflightRun
from redis_preflight.verdict.outcomes import CheckResult, Outcome, area_of, describe, is_result

PROPERTY = "preflight"
EVIDENCE = pytest.StashKey[list[str]]()

# pytest_report_teststatus: (category, letter, word) for the terminal's progress and final line.
TESTSTATUS: dict[str, tuple[str, str, tuple[str, dict[str, bool]]]] = {
    Outcome.PASSED: ("passed", ".", ("PASSED", {"green": True})),
    Outcome.FAILED: ("failed", "F", ("FAILED", {"red": True})),
    Outcome.ADVISORY: ("advisory", "A", ("ADVISORY", {"yellow": True})),
    Outcome.NOT_APPLICABLE: ("not applicable", "-", ("NOT APPLICABLE", {"cyan": True})),
    Outcome.UNVERIFIED: ("unverified", "u", ("UNVERIFIED", {"yellow": True, "bold": True})),
}


def record(
    item: pytest.Item,
    call: pytest.CallInfo[None],
    report: pytest.TestReport,
    run: PreflightRun,
    redactor: Redactor,
) -> CheckResult | None:
    """The check's result if this report carries it; the report is made to agree with it."""
    if not is_result(report) or result_of(report) is not None:
        return None
    outcome, severity, message = describe(item, call, report, run.target, run.profile)
    detail = str(report.longrepr) if report.failed and report.longrepr is not None else ""
    result = CheckResult(
        id=report.nodeid,
        area=area_of(item),
        severity=str(severity),
        outcome=str(outcome),
        message=redactor.scrub(message),
        target=run.target.redacted,
        evidence=tuple(redactor.scrub(html) for html in item.stash.get(EVIDENCE, [])),
        detail=redactor.scrub(detail),
    )
    report.user_properties.append((PROPERTY, _serialisable(result)))
    _speak_pytest(report, result)
    return result


def result_of(report: pytest.TestReport) -> CheckResult | None:
    for name, value in report.user_properties:
        if name == PROPERTY and isinstance(value, dict):
            return CheckResult(**{**value, "evidence": tuple(value.get("evidence", ()))})
    return None


def teststatus(report: pytest.TestReport) -> tuple[str, str, tuple[str, dict[str, bool]]] | None:
    result = result_of(report)
    return TESTSTATUS[result.outcome] if result is not None else None


def _speak_pytest(report: pytest.TestReport, result: CheckResult) -> None:
    """Advisory findings pass in pytest's eyes; checks that could not run are skips, not errors."""
    if result.outcome == Outcome.ADVISORY:
        report.outcome = "passed"
        report.longrepr = None
    elif result.outcome in (Outcome.UNVERIFIED, Outcome.NOT_APPLICABLE) and not report.skipped:
        path, line, _ = report.location
        report.outcome = "skipped"
        report.longrepr = (path, (line or 0) + 1, result.message)


def _serialisable(result: CheckResult) -> dict[str, Any]:
    document = asdict(result)
    document["evidence"] = list(result.evidence)
    return document
