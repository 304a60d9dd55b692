"""Run the verifier in a child process and measure it: wall time, and its own peak RSS (wait4)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TIMEOUT_S = 1.0
# Small timeouts keep the catalogue quick; each bound in the issue is counted from them.
TIMEOUTS = ("--connect-timeout", str(TIMEOUT_S), "--socket-timeout", str(TIMEOUT_S))
# What the issue allows a single target: connect timeout + socket timeout + 3 s from the run's start.
RUN_BOUND_S = 2 * TIMEOUT_S + 3.0
MAX_RSS_MB = 200


@dataclass
class Measured:
    returncode: int
    output: str
    report_dir: Path
    wall_s: float
    peak_rss_mb: float

    @property
    def summary(self) -> dict[str, Any]:
        path = self.report_dir / "summary.json"
        assert path.is_file(), (
            f"no summary.json after {self.wall_s:.1f} s, exit {self.returncode}:\n{self.output[-3000:]}"
        )
        return dict(json.loads(path.read_text()))

    def check(self, name: str) -> dict[str, Any]:
        """The summary entry whose id ends with `name` (e.g. "test_ping", "test_node_reachable[...]")."""
        matches = [c for c in self.summary["checks"] if c["id"].split("::")[-1] == name]
        assert len(matches) == 1, f"{name}: {len(matches)} entries in summary.json"
        return matches[0]


# A small Python in between: on Linux a child's ru_maxrss starts from the RSS of the process that
# spawned it (vfork or fork, then exec), so spawned straight from a pytest worker grown past 200 MB
# the verifier would read as at least that. The launcher is ~14 MB; its child's figure is its own.
_LAUNCHER = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(child.pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_measured(report_dir: Path, *args: str, env: dict[str, str], timeout: float = 120) -> Measured:
    """The console script with `args`; its peak RSS is its own, read from wait4 by a small launcher
    (not RUSAGE_CHILDREN, which keeps the largest child the test process ever had)."""
    command = [sys.executable, "-m", "redis_preflight.cli", "--report-dir", str(report_dir), *args]
    with tempfile.TemporaryFile() as output, tempfile.TemporaryDirectory() as scratch:
        peak = Path(scratch) / "maxrss"
        started = time.monotonic()
        child = subprocess.Popen(
            [sys.executable, "-c", _LAUNCHER, str(peak), *command],
            cwd=report_dir.parent,
            env=env,
            stdout=output,
            stderr=output,
            start_new_session=True,
        )
        try:
            child.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
        wall = time.monotonic() - started
        output.seek(0)
        text = output.read().decode(errors="replace")
        # Killed at the timeout, the launcher wrote nothing: unmeasured is never under a bound.
        rss_mb = int(peak.read_text()) / 1024 if peak.is_file() else float("inf")
    return Measured(child.returncode, text, report_dir, wall, rss_mb)
