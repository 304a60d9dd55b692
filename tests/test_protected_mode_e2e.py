"""Protected mode as a remote client meets it: the verifier in a network namespace of its own,
reaching redis-server over a veth pair from a non-loopback address (issue 14, item 2)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from conftest import Outcome, clean_env


@dataclass(frozen=True)
class Namespace:
    name: str
    host_address: str  # the host's end of the veth pair, where redis-server listens

    def run_preflight(self, tmp_path, *args: str) -> Outcome:
        report_dir = tmp_path / "reports"
        command = ["ip", "netns", "exec", self.name, sys.executable, "-m", "redis_preflight.cli"]
        done = subprocess.run(
            [*command, "--report-dir", str(report_dir), *args],
            cwd=tmp_path,
            env=clean_env(),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        return Outcome(done.returncode, done.stdout + done.stderr, report_dir)


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


@pytest.fixture(scope="module")
def namespace() -> Iterator[Namespace]:
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("needs root and iproute2 to make a network namespace")
    tag = os.getpid() % 100_000
    name, subnet = f"pf{tag}", f"10.213.{tag % 250}"
    ip("netns", "add", name)
    try:
        ip("link", "add", f"pf{tag}a", "type", "veth", "peer", "name", f"pf{tag}b")
        ip("link", "set", f"pf{tag}b", "netns", name)
        ip("addr", "add", f"{subnet}.1/30", "dev", f"pf{tag}a")
        ip("link", "set", f"pf{tag}a", "up")
        ip("netns", "exec", name, "ip", "addr", "add", f"{subnet}.2/30", "dev", f"pf{tag}b")
        ip("netns", "exec", name, "ip", "link", "set", f"pf{tag}b", "up")
        yield Namespace(name, f"{subnet}.1")
    finally:
        ip("netns", "del", name)  # takes the veth pair with it


def test_protected_mode_from_a_remote_address_is_named_with_its_remedy(namespace, redis_factory, tmp_path):
    server = redis_factory(f"bind {namespace.host_address} 127.0.0.1", "protected-mode yes")
    outcome = namespace.run_preflight(
        tmp_path, "--redis-url", f"redis://{namespace.host_address}:{server.port}/0"
    )
    assert outcome.returncode == 1, outcome.output
    ping = outcome.check("test_ping")
    assert ping["outcome"] == "failed"
    remedy = (
        f"protected mode at {namespace.host_address}:{server.port}: the server takes clients from loopback "
        "only, as the default user has no password; do one: give the default user a password "
        "(requirepass, or ACL SETUSER default >PASSWORD) and put it in REDIS_URL; or, on a private network "
        "only, turn protected mode off (CONFIG SET protected-mode no from the server's own host, then "
        "CONFIG REWRITE; or protected-mode no in redis.conf; or start it with --protected-mode no)"
    )
    assert ping["message"] == remedy
    assert outcome.check("test_server_identity")["message"] == f"target unreachable: {remedy}"
    assert "unexpected error" not in outcome.output
