"""What each check found: its area, its severity under the profile, and one line of message."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import NoReturn, get_args

import pytest
import redis
from _pytest.outcomes import Failed, Skipped  # pytest.fail/skip.Exception, named for mypy

from redis_preflight.config.profiles import Profile, Severity
from redis_preflight.config.settings import Area
from redis_preflight.config.target import Target
from redis_preflight.errors import classify, stopped_answering

AREAS: tuple[str, ...] = get_args(Area)
OUTCOME = "preflight_outcome"


class NotApplicable(Skipped):
    """The target has no such thing (TLS checks on a plaintext target): neither passed nor missing."""


class Unverified(Skipped):
    """The check should have run but could not; its reason names the fix."""


def not_applicable(reason: str) -> NoReturn:
    __tracebackhide__ = True
    raise NotApplicable(reason, allow_module_level=True)


def unverified(reason: str) -> NoReturn:
    __tracebackhide__ = True
    raise Unverified(reason, allow_module_level=True)


class Finding:
    """Given to a check as the `finding` fixture: what it observed, how serious a failure is."""

    def __init__(self, item: pytest.Item) -> None:
        self._item = item

    def observed(self, text: str) -> None:
        """The one line shown when the check passes (e.g. "PONG in 0.31 ms")."""
        self._item.user_properties.append(("observed", text))

    def escalate(self, severity: Severity) -> None:
        """Override the marker's severity for this run (e.g. a certificate expiring in days)."""
        self._item.user_properties.append(("severity_override", str(severity)))


class Outcome(StrEnum):
    """The closed set every check ends in; the verdict is computed from these alone."""

    PASSED = "passed"
    FAILED = "failed"  # a blocking finding (or any finding under --strict)
    ADVISORY = "advisory"  # a finding that does not gate
    NOT_APPLICABLE = "not_applicable"  # the target has no such thing
    UNVERIFIED = "unverified"  # should have run but could not; the message names the fix


@dataclass(frozen=True)
class CheckResult:
    """One check's result: what summary.json, junit.xml, report.html and the terminal all show."""

    id: str
    area: str
    severity: str
    outcome: str
    message: str
    target: str = ""
    evidence: tuple[str, ...] = ()  # HTML fragments, escaped where they were built
    detail: str = ""  # the traceback, shown behind a toggle

    @property
    def blocking(self) -> bool:
        return self.severity == Severity.BLOCKING


def area_of(item: pytest.Item) -> str:
    marker = item.get_closest_marker("area")
    return str(marker.args[0]) if marker and marker.args else "connection"


def severity_of(item: pytest.Item, profile: Profile) -> Severity:
    """`@pytest.mark.severity("advisory", production="blocking")`: default, then per profile."""
    for name, value in reversed(item.user_properties):
        if name == "severity_override":
            return Severity(str(value))
    marker = item.get_closest_marker("severity")
    if marker is None:
        return Severity.BLOCKING
    default = marker.args[0] if marker.args else Severity.BLOCKING
    return Severity(str(marker.kwargs.get(profile.value, default)))


def is_result(report: pytest.TestReport) -> bool:
    """The one report per check that carries its outcome: the call, or a setup that did not pass."""
    return report.when == "call" or (report.when == "setup" and not report.passed)


def describe(
    item: pytest.Item,
    call: pytest.CallInfo[None],
    report: pytest.TestReport,
    target: Target,
    profile: Profile,
) -> tuple[Outcome, Severity, str]:
    """The outcome, severity and one-line message of a check's result report."""
    severity = severity_of(item, profile)
    error = call.excinfo.value if call.excinfo is not None else None
    if report.passed:
        observed = [value for name, value in item.user_properties if name == "observed"]
        return Outcome.PASSED, severity, _one_line(str(observed[-1])) if observed else "passed"
    if report.skipped:
        outcome = Outcome.NOT_APPLICABLE if isinstance(error, NotApplicable) else Outcome.UNVERIFIED
        if isinstance(error, Skipped):
            reason = error.msg or ""
        else:
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        return outcome, severity, _one_line(reason.removeprefix("Skipped: "))
    if error is not None and stopped_answering(error, target):
        # A server that stops answering is never advisory, whichever check noticed it.
        return Outcome.FAILED, Severity.BLOCKING, classify(error, target, stage="check").message
    if isinstance(error, AssertionError) and report.when == "call":
        message = _one_line(str(error)) or "assertion failed"
        return (Outcome.FAILED if severity == Severity.BLOCKING else Outcome.ADVISORY), severity, message
    if isinstance(error, (OSError, redis.RedisError)):
        # The server answered a check's own command with an error: the check could not judge.
        return Outcome.UNVERIFIED, severity, classify(error, target, stage="check").message
    if isinstance(error, Failed):  # pytest.fail, pytest-timeout's backstop among them
        return Outcome.UNVERIFIED, severity, _one_line(f"the check could not finish: {error}")
    what = f"{type(error).__name__}: {error}" if error is not None else str(report.longrepr)
    return Outcome.UNVERIFIED, severity, _one_line(f"internal error in redis-preflight ({what})")


def _one_line(text: str) -> str:
    return (text.strip().splitlines() or [""])[0][:500]
