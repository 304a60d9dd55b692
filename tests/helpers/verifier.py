"""Run the verifier in a child process and measure it: wall time, and its own peak RSS (wait4)."""

from __future__ import annotations

import json
import os
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


def run_measured(report_dir: Path, *args: str, env: dict[str, str], timeout: float = 120) -> Measured:
    """The console script with `args`; its peak RSS is its own, read from wait4 (not RUSAGE_CHILDREN,
    which keeps the largest child the test process ever had)."""
    command = [sys.executable, "-m", "redis_preflight.cli", "--report-dir", str(report_dir), *args]
    with tempfile.TemporaryFile() as output:
        started = time.monotonic()
        child = subprocess.Popen(command, cwd=report_dir.parent, env=env, stdout=output, stderr=output)
        deadline = started + timeout
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                child.kill()
                _, status, usage = os.wait4(child.pid, 0)
                break
            time.sleep(0.02)
        wall = time.monotonic() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        text = output.read().decode(errors="replace")
    return Measured(child.returncode, text, report_dir, wall, usage.ru_maxrss / 1024)
