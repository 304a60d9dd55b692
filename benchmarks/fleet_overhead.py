"""Per-target overhead of a serial fleet run: 40 local redis-servers verified in one run.

Run by hand from the repository root: `python3 benchmarks/fleet_overhead.py [--targets 40] [--runs 3]`.
Prints the median wall and CPU time of one target and of the fleet, and the cost of each further
target: (fleet - one) / (targets - 1). CPU time holds on a shared machine; wall time does not.
`--profile FILE` also writes a cProfile of one fleet run (read it with pstats).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src")]

from redis_preflight.ephemeral.local_server import LocalRedis  # noqa: E402


def verify(targets_file: Path) -> tuple[float, float]:
    """Wall seconds of one console-script run, process start to exit, and the CPU seconds it used."""
    with tempfile.TemporaryDirectory() as reports:
        command = [sys.executable, "-m", "redis_preflight.cli", "--report-dir", reports]
        cpu = _children_cpu()
        started = time.perf_counter()
        subprocess.run([*command, "--targets-file", str(targets_file)], capture_output=True, check=False)
        return time.perf_counter() - started, _children_cpu() - cpu


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def medians(targets_file: Path, runs: int) -> tuple[float, float]:
    taken = [verify(targets_file) for _ in range(runs)]
    return statistics.median(wall for wall, _ in taken), statistics.median(cpu for _, cpu in taken)


def profile(targets_file: Path, out: str) -> None:
    """cProfile of a fleet run, written to `out`."""
    with tempfile.TemporaryDirectory() as reports:
        command = [sys.executable, "-m", "cProfile", "-o", out, "-m", "redis_preflight.cli", "-q"]
        args = ["--report-dir", reports, "--targets-file", str(targets_file)]
        subprocess.run([*command, *args], stdout=subprocess.DEVNULL, check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--targets", type=int, default=40)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", help="write a cProfile of one fleet run to this file")
    given = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        base = Path(scratch)
        servers = [LocalRedis(base / f"redis{i}").start() for i in range(given.targets)]
        try:
            one, fleet = base / "one.txt", base / "fleet.txt"
            one.write_text(servers[0].url + "\n")
            fleet.write_text("\n".join(server.url for server in servers) + "\n")
            if given.profile:
                profile(fleet, given.profile)
            (single, single_cpu), (whole, whole_cpu) = medians(one, given.runs), medians(fleet, given.runs)
            further = given.targets - 1
            print(
                f"serial: 1 target {single:.2f} s ({single_cpu:.2f} s CPU), {given.targets} targets "
                f"{whole:.2f} s ({whole_cpu:.2f} s CPU); per further target "
                f"{(whole - single) / further:.3f} s wall, {(whole_cpu - single_cpu) / further:.3f} s CPU"
            )
        finally:
            for server in servers:
                server.stop()


if __name__ == "__main__":
    main()
