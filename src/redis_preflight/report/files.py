"""The three reports of a run, written whole or not at all."""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import suppress
from pathlib import Path
from typing import Any, NamedTuple

from redis_preflight.verdict.summary import usage_error_document


class ReportFiles(NamedTuple):
    html: Path
    junit: Path
    summary: Path

    @classmethod
    def under(cls, directory: Path) -> ReportFiles:
        return cls(directory / "report.html", directory / "junit.xml", directory / "summary.json")

    def clear(self) -> None:
        """At start: no earlier run's report may be read as this run's."""
        for path in self:
            path.unlink(missing_ok=True)


def write_atomically(path: Path, text: str, mode: int | None = None) -> None:
    """A temporary file renamed over the target: a reader, or a concurrent run, never sees half a file.

    `mode` for a file another user reads (mkstemp makes it 0600), set before the rename.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_json(path: Path, document: dict[str, Any]) -> None:
    write_atomically(path, json.dumps(document, indent=2) + "\n")


def write_usage_error(path: Path, message: str) -> None:
    """A run that could not start still leaves a summary that says why, where it can: when the
    report directory itself is the usage error, the terminal alone says so."""
    with suppress(OSError):
        write_json(path, usage_error_document(message))
