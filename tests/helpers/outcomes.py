"""Reading a run: one check's outcome in summary.json (its evidence in report.html: Outcome.evidence)."""

from __future__ import annotations

from typing import Any

# Short timeouts for runs where nothing is expected to stall.
FAST = ("--connect-timeout", "1", "--socket-timeout", "1")


def expect(outcome: Any, name: str, result: str, severity: str, starts: str = "", *fragments: str) -> dict:
    """Assert one check's outcome and severity in summary.json, how its message starts, what it says."""
    __tracebackhide__ = True
    check: dict = outcome.check(name)
    if (result, severity) == ("failed", "advisory"):
        result = "advisory"  # a finding that does not gate is an advisory outcome, not a failure
    assert (check["outcome"], check["severity"]) == (result, severity), check
    assert check["message"].startswith(starts), check["message"]
    for fragment in fragments:
        assert fragment in check["message"], check
    return check
