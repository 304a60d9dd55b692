"""The GitHub Actions job summary: verdict, one row per area, the findings with their next step."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from redis_preflight.report.document import findings, outcomes_seen, per_area

ICONS = {"pass": "✅", "fail": "❌", "incomplete": "⚠️", "interrupted": "⚠️", "error": "❌"}


def step_summary_path() -> Path | None:
    """GITHUB_STEP_SUMMARY: the file GitHub Actions renders on the run's page, when set."""
    given = os.environ.get("GITHUB_STEP_SUMMARY", "").strip()
    return Path(given) if given else None


def markdown(document: dict[str, Any]) -> str:
    """The summary document as GitHub-flavoured Markdown; every value escaped for a table cell."""
    verdict = str(document.get("verdict", "error"))
    lines = [f"## {ICONS.get(verdict, '•')} redis-preflight: {verdict.upper()}", ""]
    if document.get("error"):
        return "\n".join([*lines, f"The run could not start: {_cell(str(document['error']))}", ""])
    targets = document.get("targets") or []
    lines += _targets(targets) if len(targets) > 1 else [f"Target `{_code(str(document['target']))}`"]
    lines += [f"profile {document.get('profile')}" + (", strict" if document.get("strict") else ""), ""]
    outcomes = outcomes_seen(document)
    lines += [
        "| Area | " + " | ".join(o.replace("_", " ") for o in outcomes) + " |",
        "|---" * (len(outcomes) + 1) + "|",
    ]
    for area, counts in per_area(document).items():
        lines.append(f"| {area} | " + " | ".join(str(counts.get(o, 0)) for o in outcomes) + " |")
    found = findings(document)
    if found:
        lines += ["", "### Findings", "", "| Severity | Outcome | Area | Check | Finding and next step |"]
        lines.append("|---|---|---|---|---|")
        for check in found:
            where = f" ({_cell(check['target'])})" if len(targets) > 1 else ""
            lines.append(
                f"| {check['severity']} | {check['outcome']} | {check['area']} | "
                f"`{_code(check['id'].split('::')[-1])}`{where} | {_cell(check['message'])} |"
            )
    return "\n".join([*lines, ""])


def _targets(targets: list[dict[str, Any]]) -> list[str]:
    lines = [f"{len(targets)} targets:", ""]
    return lines + [f"- {str(t['verdict']).upper()} `{_code(str(t['target']))}`" for t in targets] + [""]


def _cell(text: str) -> str:
    """One table cell: no newline, no column break, no HTML the page would render."""
    flat = " ".join(str(text).split())
    return flat.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _code(text: str) -> str:
    return str(text).replace("`", "'").replace("|", "\\|")


def append_step_summary(document: dict[str, Any], path: Path, scrub: Callable[[str], str]) -> None:
    """Appended, as GitHub asks: other steps of the job write to the same file."""
    with path.open("a", encoding="utf-8") as file:
        file.write(scrub(markdown(document)) + "\n")
