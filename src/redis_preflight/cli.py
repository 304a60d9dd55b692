"""`redis-preflight --redis-url URL [pytest options]`: the checks, from any directory."""

from __future__ import annotations

import os
import sys
from importlib.resources import files
from importlib.util import find_spec
from pathlib import Path

import pytest

PACKAGE = Path(str(files("redis_preflight")))
# The plugins the gate uses. Others installed beside it (hypothesis, benchmark, ...) would cost
# start-up time on every verdict and could change it; `pytest -p redis_preflight.plugin` keeps them.
PLUGINS = (
    "pytest_timeout",
    "xdist.plugin",
    "xdist.looponfail",
    "redis_preflight.plugin",
)


def checks_dir() -> Path:
    """Inside the wheel the checks ship in the package; in a source checkout, beside it."""
    shipped = PACKAGE / "checks"
    return shipped if shipped.is_dir() else PACKAGE.parents[1] / "checks"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    checks = checks_dir()
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # inherited by pytest-xdist's workers
    plugins = [arg for name in PLUGINS if find_spec(name.split(".")[0]) for arg in ("-p", name)]
    # Our own ini and rootdir: the user's pytest configuration must not leak into the gate. The
    # rootdir is the checks' parent, so a check is named checks/test_keys.py::test_shape[...].
    ini = ["-c", str(PACKAGE / "preflight.ini"), "--rootdir", str(checks.parent)]
    return int(pytest.main([*ini, *plugins, str(checks), *args]))


if __name__ == "__main__":
    raise SystemExit(main())
