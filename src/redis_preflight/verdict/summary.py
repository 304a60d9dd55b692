"""summary.json, the verdict, and the exit code a pipeline trusts."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from redis_preflight.config.profiles import Severity
from redis_preflight.verdict.outcomes import AREAS, is_result

if TYPE_CHECKING:
    from redis_preflight.run import PreflightRun


@dataclass(frozen=True)
class CheckResult:
    id: str
    area: str
    severity: str
    outcome: str
    message: str
    target: str = ""


@dataclass
class Summary:
    """Collects one result per check and writes the machine-readable summary."""

    target: str
    profile: str
    strict: bool
    checks: list[CheckResult] = field(default_factory=list)
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    _clock: float = field(default_factory=time.monotonic)
    # Every target (redacted) with its profile, in the order given.
    targets: dict[str, str] = field(default_factory=dict)
    # Each check's place in a serial run, so `-n 2` writes the same summary.
    _order: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    # Set when pytest stopped the session on a usage error (a path argument that does not exist).
    usage_error: bool = False

    @classmethod
    def of(cls, runs: Sequence[PreflightRun]) -> Summary:
        targets = {run.target.redacted: run.profile.value for run in runs}
        profiles = set(targets.values())
        profile = profiles.pop() if len(profiles) == 1 else "mixed"
        return cls(" ".join(targets), profile, runs[0].settings.strict, targets=targets)

    def add(self, report: pytest.TestReport) -> None:
        props = dict(report.user_properties)
        if "outcome" not in props or not is_result(report):
            return
        check = CheckResult(
            id=report.nodeid,
            area=str(props["area"]),
            severity=str(props["severity"]),
            outcome=str(props["outcome"]),
            message=str(props["message"]),
            target=str(props.get("target", self.target)),
        )
        self.checks.append(check)
        path, line, _ = report.location
        self._order[check.id] = (
            list(self.targets).index(check.target) if check.target in self.targets else 0,
            AREAS.index(check.area) if check.area in AREAS else len(AREAS),
            path,
            line or 0,
            check.id,
        )

    def gating(self) -> list[CheckResult]:
        """The findings that fail the gate: blocking ones, and advisory ones with --strict."""
        return [
            check
            for check in self.checks
            if check.outcome in ("failed", "error") and (self.strict or check.severity == Severity.BLOCKING)
        ]

    def findings(self) -> list[CheckResult]:
        return [c for c in self.checks if c.outcome in ("failed", "error")]

    @property
    def verdict(self) -> str:
        if self.usage_error:
            return "error"
        return "fail" if self.gating() else "pass"

    def verdicts(self) -> dict[str, str]:
        """pass or fail per target: one failing target fails the run."""
        failing = {check.target for check in self.gating()}
        return {target: "fail" if target in failing else "pass" for target in self.targets}

    def exit_status(self, pytest_status: int) -> int:
        """Advisory findings alone do not fail the gate; every other pytest code keeps its meaning."""
        if pytest_status == pytest.ExitCode.TESTS_FAILED and not self.gating():
            return pytest.ExitCode.OK
        return pytest_status

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "profile": self.profile,
            "started": self.started.isoformat(timespec="seconds"),
            "duration_s": round(time.monotonic() - self._clock, 3),
            "verdict": self.verdict,
            "strict": self.strict,
            "targets": [
                {"target": target, "profile": self.targets[target], "verdict": verdict}
                for target, verdict in self.verdicts().items()
            ],
            "checks": [
                asdict(check) for check in sorted(self.checks, key=lambda c: self._order.get(c.id, ()))
            ],
        }

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.as_dict(), indent=2) + "\n", encoding="utf-8")


def write_usage_error(path: Path, message: str) -> None:
    """A run that could not start still leaves a summary that says why, where it can."""
    document: dict[str, Any] = {
        "target": None,
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "verdict": "error",
        "error": message,
        "checks": [],
    }
    # When the report directory itself is the usage error, the terminal alone says so.
    with suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
