"""--shard K/N and `redis-preflight merge`: a fleet verified in shares, merged into one run's verdict."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import clean_env, run_suite
from redis_preflight.config.fleet import shard
from redis_preflight.config.target import parse_target
from redis_preflight.ephemeral.local_server import free_port

SHARDS = 3


@pytest.fixture(scope="module")
def twelve(redis_factory) -> list[str]:
    """Twelve local targets: nine healthy, two requiring a password we do not give, one down."""
    urls = [redis_factory().url for _ in range(9)]
    urls += [redis_factory('requirepass "not-given"').url for _ in range(2)]
    return [*urls, f"redis://127.0.0.1:{free_port()}/0"]


def targets_file(directory: Path, urls: list[str]) -> Path:
    path = directory / "targets.txt"
    path.write_text("# the fleet\n" + "\n".join(urls) + "\n")
    return path


def merge(out: Path, *directories: Path) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-m",
        "redis_preflight.cli",
        "merge",
        *map(str, directories),
        "--report-dir",
        str(out),
    ]
    return subprocess.run(command, capture_output=True, text=True, env=clean_env(), timeout=60, check=False)


def findings(summary) -> set[tuple[str, str, str, str]]:
    return {
        (c["target"], c["id"], c["outcome"], c["severity"])
        for c in summary["checks"]
        if c["outcome"] not in ("passed", "not_applicable")
    }


@pytest.fixture(scope="module")
def whole_and_merged(twelve, tmp_path_factory):
    """One run over the twelve, and three shards (from the file in reverse order) merged."""
    base = tmp_path_factory.mktemp("shards")
    # Latency is left out: its findings depend on how busy the machine is at that moment.
    fast = ("--connect-timeout", "1", "--socket-timeout", "1", "--skip", "latency")
    whole = run_suite(base / "whole", "--targets-file", str(targets_file(base, twelve)), *fast, cwd=base)
    (base / "reordered").mkdir()
    reordered = targets_file(base / "reordered", list(reversed(twelve)))
    shards = [
        run_suite(
            base / f"shard{k}", "--targets-file", str(reordered), "--shard", f"{k}/{SHARDS}", *fast, cwd=base
        )
        for k in range(1, SHARDS + 1)
    ]
    merged = merge(base / "merged", *(outcome.report_dir for outcome in shards))
    return whole, shards, merged, base / "merged"


def test_merged_shards_equal_one_run_over_the_fleet(whole_and_merged):
    whole, shards, merged, merged_dir = whole_and_merged
    merged_summary = json.loads((merged_dir / "summary.json").read_text())
    assert whole.summary["verdict"] == merged_summary["verdict"] == "fail", merged.stdout + merged.stderr
    assert whole.returncode == merged.returncode == 1, merged.stderr
    per_target = {t["target"]: t["verdict"] for t in merged_summary["targets"]}
    assert per_target == {t["target"]: t["verdict"] for t in whole.summary["targets"]}
    assert sorted(per_target.values()).count("fail") == 3
    assert findings(merged_summary) == findings(whole.summary)
    assert len(findings(merged_summary)) >= 3
    assert sorted(c["id"] for c in merged_summary["checks"]) == sorted(
        c["id"] for c in whole.summary["checks"]
    )
    assert [s["shard"] for s in merged_summary["shards"]] == ["1/3", "2/3", "3/3"]
    assert "redis-preflight merged verdict: FAIL (12 targets)" in merged.stdout


def test_shards_share_the_fleet_out_evenly_with_none_twice(whole_and_merged, twelve):
    _, shards, _, _ = whole_and_merged
    shares = [{t["target"] for t in outcome.summary["targets"]} for outcome in shards]
    assert sorted(len(share) for share in shares) == [4, 4, 4]
    assert set().union(*shares) == {parse_target(url).redacted for url in twelve}
    for outcome in shards:
        assert outcome.summary["verdict"] in ("pass", "fail"), outcome.output


def test_merged_junit_and_html_hold_every_check(whole_and_merged):
    whole, _, _, merged_dir = whole_and_merged
    suite = ET.parse(merged_dir / "junit.xml").getroot().find("testsuite")
    assert suite is not None
    assert len(suite.findall("testcase")) == int(suite.get("tests")) == len(whole.summary["checks"])
    html = (merged_dir / "report.html").read_text()
    assert "FAIL" in html
    assert "NOAUTH at 127.0.0.1:" in html
    assert "merged by redis-preflight merge from 1/3, 2/3, 3/3" in html


def test_shard_membership_is_stable_under_reordering():
    targets = [parse_target(f"redis://10.0.0.{n}:6379/0") for n in range(1, 30)]
    reordered = list(reversed(targets))
    for k in range(1, 4):
        assert {targets[i] for i in shard(targets, k, 3)} == {reordered[i] for i in shard(reordered, k, 3)}


def test_a_missing_shard_makes_the_merge_an_error(whole_and_merged, tmp_path):
    _, shards, _, _ = whole_and_merged
    merged = merge(tmp_path / "merged", shards[0].report_dir, shards[2].report_dir)
    assert merged.returncode == 4
    assert "shards missing 2/3" in merged.stderr
    summary = (tmp_path / "merged" / "summary.json").read_text()
    assert '"verdict": "error"' in summary


def test_a_shard_of_more_shares_than_targets_is_a_usage_error(run_preflight, plain_redis):
    outcome = run_preflight("--redis-url", plain_redis.url, "--shard", "2/2")
    assert outcome.returncode == 4
    assert "--shard 2/2 of a fleet of 1 target(s) is empty" in outcome.output


@pytest.mark.parametrize("given", ["0/3", "4/3", "1-3", "a/b"])
def test_a_bad_shard_is_a_usage_error(run_preflight, plain_redis, given):
    outcome = run_preflight("--redis-url", plain_redis.url, "--shard", given)
    assert outcome.returncode == 4
    assert f"invalid shard '{given}' from the command line (--shard)" in outcome.output
