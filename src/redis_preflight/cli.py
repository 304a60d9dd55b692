"""`redis-preflight --redis-url URL [pytest options]`: the checks, from any directory."""

from __future__ import annotations

import sys
from importlib.resources import files
from pathlib import Path

import pytest

PACKAGE = Path(str(files("redis_preflight")))


def checks_dir() -> Path:
    """Inside the wheel the checks ship in the package; in a source checkout, beside it."""
    shipped = PACKAGE / "checks"
    return shipped if shipped.is_dir() else PACKAGE.parents[1] / "checks"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    checks = checks_dir()
    # Our own ini and rootdir: the user's pytest configuration must not leak into the gate.
    return int(
        pytest.main(
            [
                "-c",
                str(PACKAGE / "preflight.ini"),
                "--rootdir",
                str(checks),
                "-p",
                "redis_preflight.plugin",
                str(checks),
                *args,
            ]
        )
    )


if __name__ == "__main__":
    raise SystemExit(main())
