"""Provider-shaped servers: the verdict holds where the provider blocks admin commands.

Each shape is a real redis-server with the provider's documented blocked set renamed away,
behind a TLS proxy that adds the provider's INFO fields; db 0 holds the healthy sample
keyspace, db 1 the same with defects.
"""

from __future__ import annotations

import re

import pytest
from helpers.keys import seed_defects_a
from helpers.providers import DEFECTIVE_DB, HEALTHY_DB, PASSWORD, SHAPES, ShapedServer, direct, start_shaped
from helpers.tls import Pki, make_pki

from redis_preflight.contract.samples import seed

# Why a blocking check does not apply to these runs (read-only, no health URL, no cluster, ...).
NOT_APPLICABLE = (
    "read-only run",
    "REDIS_URL carries credentials",
    "no health URL",
    "not a Redis Cluster",
    "not a Sentinel URL",
    "no --auth-token-provider",
    "no backup to drill",
)
# The plaintext port beside TLS is probed where nothing listens (port 1), as the providers keep it.
FAST = (
    "--connect-timeout",
    "2",
    "--socket-timeout",
    "2",
    "--plaintext-port",
    "1",
    "--scan-budget",
    "5",
)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module", params=sorted(SHAPES))
def shaped(request, redis_factory, pki) -> ShapedServer:
    server = start_shaped(redis_factory, pki, SHAPES[request.param])
    seed(direct(server.server, HEALTHY_DB))
    yield server
    server.proxy.stop()


@pytest.fixture(scope="module")
def plain_server(redis_factory):
    return redis_factory(f'requirepass "{PASSWORD}"', "maxmemory 256mb", "maxmemory-policy noeviction")


def reseed_defects(*servers) -> None:
    """The defective keyspace written afresh on each server at once: some defects expire in 60 s."""
    for server in servers:
        client = direct(server, DEFECTIVE_DB)
        client.flushdb()
        seed_defects_a(client)


def run_shaped(run_preflight, shaped: ShapedServer, db: int, *extra: str):
    return run_preflight(
        "--redis-url",
        shaped.url(db),
        "--tls-ca-file",
        shaped.tls_ca_file,
        "--profile",
        "production",
        *shaped.shape.options,
        *FAST,
        *extra,
    )


def keys_findings(outcome) -> dict[str, tuple[str, str]]:
    """Each keys check's outcome, and for findings the message with numbers (timings, TTLs left) masked."""
    return {
        c["id"].split("::")[-1]: (
            c["outcome"],
            re.sub(r"\d+(\.\d+)?", "N", c["message"]) if c["outcome"] in ("failed", "advisory") else "",
        )
        for c in outcome.summary["checks"]
        if c["area"] == "keys"
    }


def test_healthy_keyspace_passes_and_names_the_provider(run_preflight, shaped):
    outcome = run_shaped(run_preflight, shaped, HEALTHY_DB)
    checks = outcome.summary["checks"]
    assert not [c for c in checks if c["outcome"] == "error"], outcome.output
    assert outcome.summary["verdict"] == "pass", [
        c for c in checks if c["outcome"] in ("failed", "unverified")
    ]
    assert outcome.returncode == 0, outcome.output
    provider = shaped.shape.provider
    assert outcome.summary["provider"] == provider.key
    assert f"provider: {provider.name} (" in outcome.output
    report = (outcome.report_dir / "report.html").read_text()
    assert f"on <b>{provider.name}</b>" in report.replace("&#x27;", "'").replace("&amp;", "&")
    # Every blocked command a check needs is in the table as blocked; nothing else is.
    table = outcome.summary["targets"][0]["capabilities"]
    needed_blocked = {command for command, status in table.items() if status != "available"}
    assert needed_blocked == {c for c in table if c.split()[0] in provider.blocked}, table
    # No blocking check is left unverified for a blocked command: each either does not apply
    # here or says what the provider guarantees instead.
    assert outcome.summary["unverified_blocking"] == [], outcome.summary["unverified_blocking"]
    for check in checks:
        if check["severity"] == "blocking" and check["outcome"] == "not_applicable":
            assert check["message"].startswith(NOT_APPLICABLE) or provider.name in check["message"], check
    assert "Commands the checks need" in report
    if "CLUSTER" in provider.blocked:
        cluster = next(c for c in checks if c["id"].endswith("test_cluster_state_ok"))
        assert "INFO cluster_enabled:0" in cluster["message"], cluster
    version = next(c for c in checks if c["id"].endswith("test_version_supported"))
    assert version["outcome"] == "passed", version
    assert provider.name in version["message"], version


def test_defective_keyspace_fails_as_on_a_plain_server(run_preflight, shaped, plain_server):
    reseed_defects(shaped.server, plain_server)
    outcome = run_shaped(run_preflight, shaped, DEFECTIVE_DB)
    plain_url = f"redis://:{PASSWORD}@127.0.0.1:{plain_server.port}/{DEFECTIVE_DB}"
    plain = run_preflight("--redis-url", plain_url, "--profile", "production", *FAST)
    assert outcome.summary["verdict"] == "fail", outcome.output
    assert outcome.returncode == 1
    shaped_keys, plain_keys = keys_findings(outcome), keys_findings(plain)
    assert any(result == "failed" for result, _ in plain_keys.values()), plain_keys
    assert shaped_keys == plain_keys
