"""The catalogue of hostile peers (tests/helpers/catalogue.py), measured: per case, the verifier's
wall time (process start to exit), the run's own duration (summary.json: from the run's start),
its peak RSS (wait4), the verdict and what the reporting check said.

    PYTHONPATH=src python3 benchmarks/hostile.py [--repeat 3] [--case NAME ...]

Timeouts are the catalogue's (1 s connect, 1 s socket): the issue's bound for a single target is
connect + socket + 3 s = 5 s from the run's start, and 200 MB of RSS. The machine is shared: read
the load average it prints.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from helpers.catalogue import CATALOGUE, Upstream, seed  # noqa: E402
from helpers.verifier import RUN_BOUND_S, TIMEOUTS, run_measured  # noqa: E402

from conftest import clean_env  # noqa: E402
from redis_preflight.ephemeral.local_server import LocalRedis  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--case", action="append", help="only these cases (repeatable)")
    options = parser.parse_args()
    cases = [case for case in CATALOGUE if not options.case or case.name in options.case]
    print(f"load average {os.getloadavg()[0]:.2f}; bound {RUN_BOUND_S:g} s from the run's start, 200 MB")
    print(f"{'case':34} {'wall s':>7} {'run s':>6} {'RSS MB':>7}  verdict  outcome   message")
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        server = LocalRedis(directory / "upstream", []).start()
        try:
            seed(server)
            for case in cases:
                measure(case, Upstream(server, directory), options.repeat)
        finally:
            server.stop()


def measure(case, upstream: Upstream, repeat: int) -> None:  # type: ignore[no-untyped-def]
    walls, runs, rss = [], [], []
    for attempt in range(repeat):
        report_dir = upstream.directory / f"{case.name}-{attempt}" / "reports"
        report_dir.parent.mkdir(parents=True)
        with case.peer(upstream) as given:
            run = run_measured(report_dir, *given.args, *TIMEOUTS, env=clean_env(), timeout=120)
        walls.append(run.wall_s)
        rss.append(run.peak_rss_mb)
        summary = run.summary
        runs.append(summary["duration_s"])
        check = run.check(case.check.format(port=given.port))
    print(
        f"{case.name:34} {statistics.median(walls):7.1f} {statistics.median(runs):6.2f} "
        f"{max(rss):7.0f}  {summary['verdict']:7}  {check['outcome']:8}  {check['message'][:90]}"
    )


if __name__ == "__main__":
    main()
