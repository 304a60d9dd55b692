"""The wheel ships the checks, and its console script runs them from any directory."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT, clean_env


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return next(out.glob("redis_preflight-*.whl"))


def test_wheel_contains_checks_and_ini(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "redis_preflight/checks/test_connection.py" in names
    assert "redis_preflight/preflight.ini" in names
    assert "redis_preflight/plugin.py" in names


def test_installed_console_script_ignores_the_users_pytest_config(wheel, tmp_path, plain_redis):
    # Installed into a directory of its own, ahead of any editable install on sys.path.
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    project = tmp_path / "someone-elses-repo"
    project.mkdir()
    (project / "pytest.ini").write_text("[pytest]\naddopts = --no-such-option\n")
    (project / "conftest.py").write_text("raise RuntimeError('the user conftest must not load')\n")
    done = subprocess.run(
        [sys.executable, str(target / "bin" / "redis-preflight"), "--redis-url", plain_redis.url],
        cwd=project,
        env=clean_env(PYTHONPATH=str(target)),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"rootdir: {target / 'redis_preflight'}" in done.stdout  # the shipped checks ran
    assert "checks/test_connection.py" in done.stdout
    assert (project / "reports" / "summary.json").is_file()


def test_wheel_runs_the_demo_in_a_fresh_virtual_environment(wheel, tmp_path):
    """Only the wheel and what its metadata declares: a missing dependency fails here."""
    env_dir = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(env_dir)], check=True, timeout=120)
    pip = [str(env_dir / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, str(wheel)], check=True, capture_output=True, timeout=600)
    done = subprocess.run(
        [str(env_dir / "bin" / "redis-preflight"), "--redis-url", "ephemeral"],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "redis-preflight verdict: PASS" in done.stdout
    assert f"report: {tmp_path / 'reports' / 'report.html'}" in done.stdout
