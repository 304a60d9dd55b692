"""`redis-preflight merge`: shards' summary.json combined into the Summary of one run over the fleet.

The verdict is not taken from the shards but judged again, by Summary, from every check: the
merged verdict is the one a single run over the whole fleet would have given. A shard that broke
or was interrupted makes the merge error or interrupted, as it would have made the whole run; a
shard that is missing makes the merge a usage error (its targets would go unverified).
"""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from redis_preflight.verdict.outcomes import CheckResult
from redis_preflight.verdict.summary import Planned, Summary


class MergeError(ValueError):
    """The shards cannot be merged into a trustworthy verdict; the message says which and why."""


def read_summaries(directories: list[Path]) -> list[dict[str, Any]]:
    documents = []
    for directory in directories:
        path = directory / "summary.json"
        try:
            documents.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError) as e:
            raise MergeError(f"{path}: no readable summary.json ({e}); did that shard run?") from None
    return documents


def check_shards(documents: list[dict[str, Any]], directories: list[Path]) -> None:
    """Every shard of one K/N split exactly once, or runs without --shard: else targets are missing."""
    given = [document.get("shard") for document in documents]
    if not any(given):
        return
    if not all(given):
        raise MergeError("some summaries come from --shard runs and some not: merge the shards of one split")
    splits = {str(shard).split("/")[1] for shard in given}
    if len(splits) != 1:
        raise MergeError(f"shards of different splits ({', '.join(map(str, given))}): merge one split")
    n = int(splits.pop())
    seen = [int(str(shard).split("/")[0]) for shard in given]
    missing = [f"{k}/{n}" for k in range(1, n + 1) if k not in seen]
    twice = sorted({f"{k}/{n}" for k in seen if seen.count(k) > 1})
    if missing or twice:
        where = ", ".join(f"{d} ({s})" for d, s in zip(directories, given, strict=True))
        problem = "; ".join(
            [
                *([f"missing {', '.join(missing)}"] if missing else []),
                *([f"twice {', '.join(twice)}"] if twice else []),
            ]
        )
        raise MergeError(f"shards {problem}: their targets would go unverified (given: {where})")


def merge(documents: list[dict[str, Any]]) -> Summary:
    """One Summary over every shard's targets and checks."""
    targets = {t["target"]: t["profile"] for d in documents for t in d.get("targets", [])}
    profiles = set(targets.values())
    summary = Summary(
        " ".join(targets),
        profiles.pop() if len(profiles) == 1 else "mixed",
        any(bool(d.get("strict")) for d in documents),
        all(bool(d.get("accept_incomplete")) for d in documents),
        targets=targets,
        started=min(datetime.fromisoformat(d["started"]) for d in documents),
    )
    known = {f.name for f in fields(CheckResult)}
    for document in documents:
        for check in document.get("checks", []):
            summary.add(CheckResult(**{k: v for k, v in check.items() if k in known}))
        summary.selection += [
            s for s in document.get("scope", {}).get("selection", []) if s not in summary.selection
        ]
        name = f"shard {document.get('shard') or '?'}"
        if document.get("verdict") == "error":
            summary.broken = summary.broken or f"{name}: {document.get('error', 'error')}"
        elif document.get("ended_early") and document.get("verdict") == "interrupted":
            summary.ended_early = summary.ended_early or f"{document['ended_early']} ({name})"
    summary.plan(Planned(c.id, c.area, c.severity, c.target) for c in summary.results.values())
    return summary


def merged_document(summary: Summary, documents: list[dict[str, Any]]) -> dict[str, Any]:
    """summary.json of the merge: the run time spans the shards; each shard's own verdict is kept."""
    merged = summary.as_dict()
    ends = [
        datetime.fromisoformat(d["started"]) + timedelta(seconds=float(d.get("duration_s", 0)))
        for d in documents
    ]
    merged["duration_s"] = round((max(ends) - summary.started).total_seconds(), 3)
    merged["shards"] = [
        {"shard": d.get("shard"), "verdict": d.get("verdict"), "targets": len(d.get("targets", []))}
        for d in documents
    ]
    return merged
