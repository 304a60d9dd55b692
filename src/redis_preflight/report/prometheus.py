"""--prometheus-file: the verdict and one gauge per check, in node_exporter's textfile format.

For teams that run the gate from cron and alert on it (docs/pipelines.md has the rules).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from redis_preflight.report.document import VERDICTS, check_name, checks
from redis_preflight.report.files import write_atomically

# The value of redis_preflight_check: nothing wrong, a finding, could not be verified.
CHECK_VALUES = {"passed": 1, "not_applicable": 1, "advisory": 0, "failed": 0}
UNVERIFIED = -1


def exposition(document: dict[str, Any]) -> str:
    """The Prometheus text exposition of a summary document."""
    verdict = str(document.get("verdict", "error"))
    lines = [
        "# HELP redis_preflight_verdict The gate's verdict: 1 for the verdict of the last run.",
        "# TYPE redis_preflight_verdict gauge",
        *(_sample("redis_preflight_verdict", {"verdict": v}, v == verdict) for v in _verdicts(verdict)),
        "# HELP redis_preflight_last_run_timestamp_seconds When the last run started (Unix time).",
        "# TYPE redis_preflight_last_run_timestamp_seconds gauge",
        _sample("redis_preflight_last_run_timestamp_seconds", {}, _started(document)),
        "# HELP redis_preflight_target_verdict Each target's verdict: 1 for its verdict.",
        "# TYPE redis_preflight_target_verdict gauge",
    ]
    for target in document.get("targets") or []:
        for v in _verdicts(str(target["verdict"])):
            lines.append(
                _sample(
                    "redis_preflight_target_verdict",
                    {"target": target["target"], "verdict": v},
                    v == target["verdict"],
                )
            )
    lines += [
        "# HELP redis_preflight_check Each check: 1 nothing wrong (passed or not applicable), "
        "0 a finding (failed or advisory), -1 unverified (could not run).",
        "# TYPE redis_preflight_check gauge",
    ]
    for check in checks(document):
        labels = {
            "target": check.get("target") or document.get("target") or "",
            "area": check["area"],
            "check": check_name(check),
            "severity": check["severity"],
        }
        lines.append(_sample("redis_preflight_check", labels, CHECK_VALUES.get(check["outcome"], UNVERIFIED)))
    return "\n".join(lines) + "\n"


def _verdicts(verdict: str) -> tuple[str, ...]:
    return VERDICTS if verdict in VERDICTS else (*VERDICTS, verdict)


def _started(document: dict[str, Any]) -> float:
    started = document.get("started")
    return datetime.fromisoformat(str(started)).timestamp() if started else 0.0


def _sample(name: str, labels: dict[str, Any], value: float | bool) -> str:
    shown = ",".join(f'{key}="{_escape(str(text))}"' for key, text in labels.items())
    number = float(value)
    text = str(int(number)) if number.is_integer() else repr(number)
    return f"{name}{{{shown}}} {text}" if shown else f"{name} {text}"


def _escape(text: str) -> str:
    """Label values: backslash, double quote and newline escaped, as the format requires."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def write_prometheus_file(document: dict[str, Any], path: Path, scrub: Callable[[str], str]) -> None:
    write_atomically(path, scrub(exposition(document)), mode=0o644)  # node_exporter: another user
