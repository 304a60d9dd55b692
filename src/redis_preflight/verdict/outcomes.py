"""What each check found: its area, its severity under the profile, and one line of message."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NoReturn, get_args

import pytest
import redis
from _pytest.outcomes import Skipped  # pytest.skip.Exception, named so that mypy can follow it

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


@dataclass(frozen=True)
class Outcome:
    area: str
    severity: str
    outcome: str
    message: str


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
    """The one report per check that carries its outcome."""
    return report.when == "call" or (report.when in ("setup", "teardown") and not report.passed)


def describe(
    item: pytest.Item,
    call: pytest.CallInfo[None],
    report: pytest.TestReport,
    target: Target,
    profile: Profile,
) -> Outcome:
    outcome: str = report.outcome
    if report.failed and report.when != "call":
        outcome = "error"
    severity = severity_of(item, profile)
    if call.excinfo is not None and stopped_answering(call.excinfo.value, target):
        # A server that stops answering is never advisory, whichever check noticed it.
        severity = Severity.BLOCKING
    return Outcome(area_of(item), severity, outcome, _message(item, call, report, target))


def _message(
    item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport, target: Target
) -> str:
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        return _one_line(reason.removeprefix("Skipped: "))
    if report.passed:
        observed = [value for name, value in item.user_properties if name == "observed"]
        return _one_line(str(observed[-1])) if observed else "passed"
    error = call.excinfo.value if call.excinfo else None
    if isinstance(error, (OSError, redis.RedisError)):
        return classify(error, target, stage="check").message
    if isinstance(error, AssertionError):
        return _one_line(str(error)) or "assertion failed"
    if error is not None:
        return _one_line(f"{type(error).__name__}: {error}")
    return _one_line(str(report.longrepr))


def _one_line(text: str) -> str:
    return (text.strip().splitlines() or [""])[0][:500]
