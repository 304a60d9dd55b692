"""The verdict, computed from the checks' outcomes alone, and the exit code a pipeline trusts."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import pytest

from redis_preflight.verdict.outcomes import AREAS, CheckResult, Outcome

if TYPE_CHECKING:
    from redis_preflight.run import PreflightRun


class Verdict(StrEnum):
    PASS = "pass"  # noqa: S105 - a verdict, not a password
    FAIL = "fail"
    INCOMPLETE = "incomplete"  # nothing blocking failed, but a blocking check was not verified
    INTERRUPTED = "interrupted"  # SIGINT, SIGTERM, the run's deadline: the checks that ran are listed
    ERROR = "error"  # the run could not start, or broke: the verdict cannot be trusted


EXIT_CODES = {
    Verdict.PASS: pytest.ExitCode.OK,
    Verdict.FAIL: pytest.ExitCode.TESTS_FAILED,
    Verdict.INTERRUPTED: pytest.ExitCode.INTERRUPTED,
    Verdict.ERROR: pytest.ExitCode.INTERNAL_ERROR,
}
EXIT_INCOMPLETE = 6  # pytest's own codes end at 5 (no tests collected)


@dataclass(frozen=True)
class Planned:
    """A check the run was to give an outcome for: collected and selected."""

    id: str
    area: str
    severity: str
    target: str


@dataclass
class Summary:
    """One result per check, the run's scope, and the verdict computed from them."""

    target: str
    profile: str
    strict: bool
    accept_incomplete: bool = False
    targets: dict[str, str] = field(default_factory=dict)  # every target (redacted): its profile
    results: dict[str, CheckResult] = field(default_factory=dict)
    planned: dict[str, Planned] = field(default_factory=dict)
    deselected: dict[str, Planned] = field(default_factory=dict)
    selection: list[str] = field(default_factory=list)  # how the scope was narrowed (--only keys, -k ping)
    ended_early: str | None = None  # why checks were left unrun (an interrupt, -x, the deadline)
    broken: str | None = None  # a collection or internal error
    shard: str | None = None  # --shard K/N: the share of the fleet verified (merge checks them)
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    _clock: float = field(default_factory=time.monotonic)
    # Who runs each target (a managed provider's key, or None) and what it lets the verifier do.
    providers: dict[str, str | None] = field(default_factory=dict)
    capabilities: dict[str, list[dict[str, str]]] = field(default_factory=dict)

    @classmethod
    def of(cls, runs: Sequence[PreflightRun]) -> Summary:
        targets = {run.target.redacted: run.profile.value for run in runs}
        profiles = set(targets.values())
        profile = profiles.pop() if len(profiles) == 1 else "mixed"
        settings = runs[0].settings
        return cls(
            " ".join(targets),
            profile,
            settings.strict,
            settings.accept_incomplete,
            targets=targets,
            shard=settings.shard,
        )

    def learned(self, run: PreflightRun) -> None:
        """Record the target's provider and the commands it allows (asked once, at session start)."""
        target = run.target.redacted
        self.providers[target] = run.hosting.provider.key if run.hosting.provider else None
        if run.capabilities is not None:
            self.capabilities[target] = [
                {
                    "command": row.command,
                    "status": row.status,
                    "used_for": row.need.used_for,
                    "fallback": row.need.fallback if row.status != "available" else "",
                    "why": str(row.diagnosis) if row.diagnosis else "",
                }
                for row in run.capabilities.rows
            ]

    @property
    def provider(self) -> str | None:
        """The provider of the target (the first one named, in a fleet)."""
        return next((key for key in self.providers.values() if key), None)

    def plan(self, planned: Iterable[Planned]) -> None:
        self.planned = {check.id: check for check in planned}

    def add(self, result: CheckResult) -> None:
        self.results.setdefault(result.id, result)  # the first result of a check is its outcome

    @property
    def checks(self) -> list[CheckResult]:
        """Every planned check in a serial run's order, those that never ran as unverified."""
        why = self.ended_early or self.broken or "the run ended before it"
        unrun = [
            CheckResult(p.id, p.area, p.severity, Outcome.UNVERIFIED, f"not run: {why}", p.target)
            for p in self.planned.values()
            if p.id not in self.results
        ]
        order = {check_id: n for n, check_id in enumerate(self.planned)}
        every = [*self.results.values(), *unrun]
        return sorted(every, key=lambda c: (self._target_rank(c.target), order.get(c.id, len(order)), c.id))

    def _target_rank(self, target: str) -> int:
        return list(self.targets).index(target) if target in self.targets else 0

    def gating(self, checks: list[CheckResult] | None = None) -> list[CheckResult]:
        """Findings that fail the gate: blocking ones, and advisory ones with --strict."""
        gating = {Outcome.FAILED, Outcome.ADVISORY} if self.strict else {Outcome.FAILED}
        return [c for c in (self.checks if checks is None else checks) if c.outcome in gating]

    def unverified(self, checks: list[CheckResult] | None = None) -> list[CheckResult]:
        """Blocking checks that should have run and could not: they make the verdict INCOMPLETE."""
        every = self.checks if checks is None else checks
        return [c for c in every if c.outcome == Outcome.UNVERIFIED and c.blocking]

    def findings(self) -> list[CheckResult]:
        return [c for c in self.checks if c.outcome in (Outcome.FAILED, Outcome.ADVISORY)]

    def _verdict_of(self, checks: list[CheckResult]) -> Verdict:
        if self.broken is not None:
            return Verdict.ERROR
        if self.interrupted:
            return Verdict.INTERRUPTED  # never a pass, and not a verdict on the server either
        if self.gating(checks):
            return Verdict.FAIL
        if self.unverified(checks) or not checks:
            return Verdict.INCOMPLETE
        return Verdict.PASS

    @property
    def interrupted(self) -> bool:
        return self.ended_early is not None and self.ended_early.startswith("interrupted")

    @property
    def verdict(self) -> Verdict:
        return self._verdict_of(self.checks)

    def verdicts(self) -> dict[str, str]:
        """The verdict per target: one failing target fails the run."""
        checks = self.checks
        return {t: self._verdict_of([c for c in checks if c.target == t]).value for t in self.targets}

    @property
    def scope(self) -> dict[str, Any]:
        """What the verdict covers: complete, or narrowed by --only/--skip/-k/deselection."""
        areas = sorted({p.area for p in self.planned.values()}, key=_area_rank)
        return {
            "complete": not (self.deselected or self.selection),
            "areas": areas,
            "checks": len(self.planned),
            "deselected": len(self._deselected),
            "selection": list(self.selection),
        }

    @property
    def _deselected(self) -> set[str]:
        return set(self.deselected) - set(self.planned)

    def scope_words(self) -> str:
        """'' for a complete run, else e.g. ' for keys only' or ' for 1 of 72 checks (-k ping)'."""
        if not (self.deselected or self.selection):
            return ""
        if all(how.startswith(("--only", "--skip")) for how in self.selection):
            return f" for {', '.join(self.scope['areas'])} only"  # whole areas chosen
        everything = len(self.planned) + len(self._deselected)
        of = f" of {everything}" if self.deselected else ""
        return f" for {len(self.planned)}{of} checks ({', '.join(self.selection) or 'deselected'})"

    def exit_status(self, pytest_status: int) -> int:
        """The gate's exit code: from the verdict, pytest's own for usage errors and empty runs."""
        if pytest_status in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.NO_TESTS_COLLECTED):
            return pytest_status
        verdict = self.verdict
        if verdict is Verdict.INCOMPLETE:
            return pytest.ExitCode.OK if self.accept_incomplete else EXIT_INCOMPLETE
        if verdict is Verdict.ERROR and pytest_status != pytest.ExitCode.OK:
            return pytest_status
        return int(EXIT_CODES[verdict])

    def as_dict(self) -> dict[str, Any]:
        checks = self.checks
        counts = {outcome.value: sum(c.outcome == outcome for c in checks) for outcome in Outcome}
        return {
            "target": self.target,
            "profile": self.profile,
            "started": self.started.isoformat(timespec="seconds"),
            "duration_s": round(time.monotonic() - self._clock, 3),
            "verdict": self.verdict.value,
            "strict": self.strict,
            "accept_incomplete": self.accept_incomplete,
            **({"shard": self.shard} if self.shard else {}),
            "scope": self.scope,
            **({"ended_early": self.ended_early} if self.ended_early else {}),
            **({"error": self.broken} if self.broken else {}),
            "counts": counts,
            "unverified_blocking": [
                {"id": c.id, "target": c.target, "reason": c.message} for c in self.unverified(checks)
            ],
            "provider": self.provider,
            "targets": [
                {
                    "target": target,
                    "profile": self.targets[target],
                    "verdict": verdict,
                    "provider": self.providers.get(target),
                    "capabilities": {
                        row["command"]: row["status"] for row in self.capabilities.get(target, [])
                    },
                }
                for target, verdict in self.verdicts().items()
            ],
            "checks": [_public(c) for c in checks],
        }


def _public(check: CheckResult) -> dict[str, Any]:
    document = asdict(check)
    del document["evidence"], document["detail"]
    return document


def _area_rank(area: str) -> int:
    return AREAS.index(area) if area in AREAS else len(AREAS)


def usage_error_document(message: str) -> dict[str, Any]:
    """A run that could not start still leaves a summary that says why."""
    return {
        "target": None,
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "verdict": Verdict.ERROR.value,
        "error": message,
        "checks": [],
    }
