"""Reading summary.json's document (Summary.as_dict()): what the pipeline writers share."""

from __future__ import annotations

from collections import Counter
from typing import Any

from redis_preflight.verdict.summary import Verdict

# Outcomes in the order a reader scans them: the problems first.
OUTCOME_ORDER = ("failed", "unverified", "advisory", "not_applicable", "passed")
VERDICTS = tuple(verdict.value for verdict in Verdict)
# A check whose outcome is one of these has something to say to the reader.
FINDING_OUTCOMES = frozenset({"failed", "advisory", "unverified"})


def checks(document: dict[str, Any]) -> list[dict[str, Any]]:
    return list(document.get("checks") or [])


def check_name(check: dict[str, Any]) -> str:
    """test_ping, or test_ping[host:port] in a fleet: the node id without its file."""
    return str(check["id"]).split("::")[-1]


def outcomes_seen(document: dict[str, Any]) -> list[str]:
    seen = {str(check["outcome"]) for check in checks(document)}
    return [o for o in OUTCOME_ORDER if o in seen] + sorted(seen - set(OUTCOME_ORDER))


def per_area(document: dict[str, Any]) -> dict[str, Counter[str]]:
    """Outcome counts per area, areas in the order the checks ran."""
    areas: dict[str, Counter[str]] = {}
    for check in checks(document):
        areas.setdefault(str(check["area"]), Counter())[str(check["outcome"])] += 1
    return areas


def findings(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Failed, unverified and advisory checks: blocking ones first."""
    found = [check for check in checks(document) if check["outcome"] in FINDING_OUTCOMES]
    return sorted(found, key=lambda check: check.get("severity") != "blocking")
