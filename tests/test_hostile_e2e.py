"""The catalogue of hostile peers: each gets a verdict, no pytest ERROR, in bounded time and memory.

The bounds are the issue's: connect timeout + socket timeout + 3 s from the run's start (the
summary's duration; the interpreter's start-up comes before it), and 200 MB of peak RSS.
benchmarks/hostile.py prints the same figures per case.
"""

from __future__ import annotations

import pytest
from helpers import hostile
from helpers.catalogue import CATALOGUE, Case, Upstream, seed
from helpers.verifier import MAX_RSS_MB, RUN_BOUND_S, TIMEOUTS, Measured, run_measured

from conftest import clean_env


@pytest.fixture(scope="module")
def upstream(redis_factory, tmp_path_factory) -> Upstream:
    server = redis_factory()
    seed(server)
    return Upstream(server, tmp_path_factory.mktemp("hostile"))


def assert_bounded(run: Measured, bound_s: float = RUN_BOUND_S) -> None:
    """A verdict in summary.json, no check in pytest ERROR, in time, in memory."""
    __tracebackhide__ = True
    assert "INTERNALERROR" not in run.output, run.output[-3000:]
    # A hostile peer never passes: a blocking check fails, or one is left unverified.
    assert run.summary["verdict"] in ("fail", "incomplete"), run.output[-3000:]
    errored = [c["id"] for c in run.summary["checks"] if c["outcome"] == "error"]
    assert not errored, errored
    assert run.summary["duration_s"] < bound_s, f"{run.summary['duration_s']} s from the run's start"
    assert run.peak_rss_mb < MAX_RSS_MB, f"{run.peak_rss_mb:.0f} MB"


@pytest.mark.parametrize("case", CATALOGUE, ids=[case.name for case in CATALOGUE])
def test_hostile_peer(case: Case, upstream: Upstream, tmp_path):
    with case.peer(upstream) as given:
        run = run_measured(tmp_path / "reports", *given.args, *TIMEOUTS, env=clean_env(), timeout=60)
    assert_bounded(run)
    said = case.says.format(port=given.port)
    check = run.check(case.check.format(port=given.port))
    assert check["outcome"] == case.outcome, check
    assert said in check["message"], check["message"]


def test_run_deadline_leaves_the_rest_unverified_and_the_reports_complete(upstream, tmp_path):
    """INFO trickled under a 5 s socket timeout: the run's own 2 s deadline cuts it."""
    with hostile.resp_proxy(upstream.server.port, {"INFO": hostile.trickle}) as port:
        run = run_measured(
            tmp_path / "reports",
            *("--redis-url", f"redis://127.0.0.1:{port}/0", "--socket-timeout", "5", "--run-deadline", "2"),
            env=clean_env(),
        )
    assert_bounded(run, bound_s=2 + 3.0)
    checks = run.summary["checks"]
    cut = [c for c in checks if "the run's deadline of 2 s passed (--run-deadline)" in c["message"]]
    assert len(cut) >= 10, [c["message"] for c in checks]
    assert {c["outcome"] for c in cut} == {"unverified"}
    assert run.summary["duration_s"] >= 2  # cut by the deadline (INFO is asked at collection too)
    for report in ("report.html", "junit.xml", "summary.json"):
        assert (run.report_dir / report).stat().st_size > 0, report


def test_peak_rss_is_the_verifiers_own_not_the_test_processes(tmp_path):
    """On Linux a child's ru_maxrss starts from its spawner's RSS: a pytest worker that grew past
    200 MB would make every verifier read as big as itself (seen in CI: 204 MB twice, alike)."""
    ballast = bytearray(300 << 20)
    ballast[:: 1 << 12] = b"\1" * len(range(0, len(ballast), 1 << 12))  # touched: resident
    run = run_measured(
        tmp_path / "reports", "--redis-url", "redis://127.0.0.1:1/0", *TIMEOUTS, env=clean_env()
    )
    assert ballast[0] == 1
    assert run.summary["verdict"] == "fail", run.output[-3000:]
    assert run.peak_rss_mb < 150, f"{run.peak_rss_mb:.0f} MB"
