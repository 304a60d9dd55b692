"""Short-lived cloud tokens, offline: each library signs a token with static test credentials,
a proxy in front of a real redis-server accepts AUTH only when the token verifies (then AUTHs
upstream as an ACL user), and no output ever shows a token."""

from __future__ import annotations

import ssl
from dataclasses import replace

import google.auth.jwt
import pytest
import redis
from google.oauth2 import service_account
from helpers.provider_proxy import ProviderProxy
from helpers.tls import Pki, make_pki
from helpers.tokens import (
    AWS_CACHE,
    AWS_REGION,
    EntraCredential,
    aws_env,
    aws_token_valid,
    service_account_key,
)

from conftest import clean_env
from redis_preflight.config.redact import Redactor
from redis_preflight.config.settings import PreflightSettings
from redis_preflight.config.target import parse_target
from redis_preflight.prepare import prepare
from redis_preflight.probes.client import open_client
from redis_preflight.providers import azure, gcp

USER_ID, REAL_PASSWORD = "app-user", "the-acl-password"


@pytest.fixture(scope="module")
def acl_server(redis_factory):
    return redis_factory(
        "user default on >default-pw ~* &* +@all", f"user {USER_ID} on >{REAL_PASSWORD} ~* &* +@all"
    )


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def token_proxy(server, check, user=USER_ID, password=REAL_PASSWORD, pki=None) -> ProviderProxy:
    """AUTH verified here; with `pki`, TLS in front (ElastiCache IAM requires it)."""
    context = None
    if pki is not None:
        cert = pki.issue("token-proxy")
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert.cert, cert.key)
    return ProviderProxy(server.port, check=check, user=user, password=password, tls=context).start()


def aws_args(proxy: ProviderProxy, pki: Pki) -> tuple[str, ...]:
    return (
        "--redis-url",
        f"rediss://{USER_ID}@127.0.0.1:{proxy.port}/0",
        "--tls-ca-file",
        str(pki.ca_file),
        "--plaintext-port",
        "0",
        # A Python TLS proxy on 2 shared cores: the latency budget is not what is tested here.
        "--latency-p50-ms",
        "50",
        "--latency-p99-ms",
        "250",
        "--auth-token-provider",
        "aws",
        "--aws-region",
        AWS_REGION,
        "--aws-cache-name",
        AWS_CACHE,
    )


def check_of(outcome, name: str) -> dict:
    return next(c for c in outcome.summary["checks"] if c["id"].endswith(f"::{name}"))


def test_aws_token_signed_by_botocore_reaches_auth(run_preflight, acl_server, pki):
    proxy = token_proxy(acl_server, aws_token_valid, pki=pki)
    try:
        outcome = run_preflight(*aws_args(proxy, pki), env=clean_env(**aws_env()))
    finally:
        proxy.stop()
    assert outcome.returncode == 0, outcome.output
    assert proxy.auths, "no AUTH reached the proxy"
    assert all(user == USER_ID and verified for user, _, verified in proxy.auths), proxy.auths
    assert check_of(outcome, "test_authenticated")["message"].startswith(f"AUTH as '{USER_ID}'")
    lifetime = check_of(outcome, "test_token_lifetime")
    assert lifetime["outcome"] == "passed", lifetime
    assert "tokens last 15 min" in lifetime["message"]
    assert "after 12 hours" in lifetime["message"]
    assert "auth token: AWS ElastiCache IAM" in outcome.output
    text = outcome.outputs()
    for _, token, _ in proxy.auths:
        assert token not in text
        assert token.split("X-Amz-Signature=")[1] not in text


def test_aws_token_from_a_wrong_secret_is_refused_and_not_shown(run_preflight, acl_server, pki):
    proxy = token_proxy(acl_server, aws_token_valid, pki=pki)
    env = clean_env(**{**aws_env(), "AWS_SECRET_ACCESS_KEY": "not-the-secret"})
    try:
        outcome = run_preflight(*aws_args(proxy, pki), env=env)
    finally:
        proxy.stop()
    assert outcome.returncode == 1, outcome.output
    assert proxy.auths
    assert not any(verified for _, _, verified in proxy.auths)
    assert check_of(outcome, "test_authenticated")["outcome"] == "failed"
    assert "WRONGPASS" in check_of(outcome, "test_authenticated")["message"]
    for _, token, _ in proxy.auths:
        assert token not in outcome.outputs()


def test_aws_without_tls_is_a_usage_error(run_preflight, acl_server):
    outcome = run_preflight(
        "--redis-url",
        f"redis://{USER_ID}@127.0.0.1:{acl_server.port}/0",
        "--auth-token-provider",
        "aws",
        "--aws-region",
        AWS_REGION,
        "--aws-cache-name",
        AWS_CACHE,
        env=clean_env(**aws_env()),
    )
    assert outcome.returncode == 4, outcome.output
    assert "ElastiCache IAM authentication requires TLS; use rediss://" in outcome.output


def test_aws_options_missing_is_a_usage_error(run_preflight, acl_server):
    outcome = run_preflight(
        "--redis-url",
        f"rediss://127.0.0.1:{acl_server.port}/0",
        "--auth-token-provider",
        "aws",
        env=clean_env(**aws_env()),
    )
    assert outcome.returncode == 4, outcome.output
    assert "--aws-region and --aws-cache-name" in outcome.output


@pytest.mark.parametrize(("provider", "module"), [("aws", "botocore"), ("gcp", "google"), ("azure", "azure")])
def test_extra_not_installed_is_a_usage_error(run_preflight, acl_server, tmp_path, provider, module):
    """The extra's library made unimportable, as in an install without redis-preflight[aws]."""
    blocker = tmp_path / "blocked" / module
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text(f"raise ImportError('{module} is not installed')\n")
    env = clean_env(**aws_env(), PYTHONPATH=str(blocker.parent))
    outcome = run_preflight(
        "--redis-url", f"rediss://u@127.0.0.1:{acl_server.port}/0", "--auth-token-provider", provider, env=env
    )
    assert outcome.returncode == 4, outcome.output
    assert f'pip install "redis-preflight[{provider}]"' in outcome.output
    assert outcome.summary["verdict"] == "error"


def test_gcp_token_signed_by_google_auth_reaches_auth_as_default(acl_server):
    info, public_key = service_account_key()
    credentials = service_account.Credentials.from_service_account_info(
        info, scopes=gcp.SCOPES, always_use_jwt_access=True
    )

    def signed_by_the_key(user, token):
        claims = google.auth.jwt.decode(token, certs=public_key)
        return user is None and claims["iss"] == info["client_email"]

    proxy = token_proxy(acl_server, signed_by_the_key, user="default", password="default-pw")
    source = gcp.source(username=None, credentials=credentials)
    target = replace(parse_target(f"redis://127.0.0.1:{proxy.port}/0"), token=source)
    client = open_client(target, PreflightSettings())  # type: ignore[call-arg]
    try:
        assert client.ping() is True
    finally:
        client.close()
        proxy.stop()
    assert [(user, verified) for user, _, verified in proxy.auths] == [(None, True)]
    assert source.lifetime_s() > 3000  # google-auth's self-signed JWTs last an hour


@pytest.mark.parametrize(("lifetime_s", "tokens"), [(3600, 1), (30, 4)])
def test_entra_token_refreshed_before_a_new_connection_when_it_nears_its_end(
    acl_server, monkeypatch, lifetime_s, tokens
):
    """A token at start, then three connections: a long-lived token serves them all; one that
    ends within the refresh margin is replaced for each. The username is the token's oid."""
    credential = EntraCredential(lifetime_s=lifetime_s)

    def current_token(user, token):
        return user == credential.object_id and token == credential.issued[-1]

    proxy = token_proxy(acl_server, current_token)
    monkeypatch.setattr(azure, "DefaultAzureCredential", lambda: credential)
    url = f"redis://127.0.0.1:{proxy.port}/0"
    try:
        run = prepare({"redis_url": url, "auth_token_provider": "azure"}, None)[0]
        assert run.reachability.ok, run.reachability.failure
        assert run.reachability.auth.user == credential.object_id
        extra = open_client(run.target, run.settings)
        extra.ping()
        extra.close()
        run.close()
    finally:
        proxy.stop()
    assert credential.scopes[0] == "https://redis.azure.com/.default"
    assert len(credential.issued) == tokens
    assert len(proxy.auths) == 3
    assert all(verified for _, _, verified in proxy.auths), proxy.auths
    redactor = Redactor(live=lambda: run.secrets)
    for token in credential.issued:
        assert redactor.scrub(f"AUTH {credential.object_id} {token}") == f"AUTH {credential.object_id} ***"


def test_the_token_source_is_redis_pys_credential_provider():
    from redis.credentials import CredentialProvider

    source = azure.source(username="given-user", credential=EntraCredential())
    assert isinstance(source, CredentialProvider)
    user, token = source.get_credentials()
    assert user == "given-user"
    assert token.startswith("eyJ")


def test_a_failed_refresh_is_a_redis_error_naming_the_source(acl_server):
    """The cloud refuses a new token mid-run: the connection that needed it fails as a Redis
    error (classified like any other), not as a crash of the check that opened it."""
    credential = EntraCredential(lifetime_s=30)
    source = azure.source(username=None, credential=credential)

    def refuse(*scopes: str, **_: object):
        raise RuntimeError("the identity endpoint is down")

    credential.get_token = refuse  # type: ignore[method-assign]
    proxy = token_proxy(acl_server, lambda user, token: True)
    client = open_client(
        replace(parse_target(f"redis://127.0.0.1:{proxy.port}/0"), token=source), PreflightSettings()
    )  # type: ignore[call-arg]
    try:
        with pytest.raises(redis.AuthenticationError, match="Azure Entra ID: no fresh token"):
            client.ping()
    finally:
        client.close()
        proxy.stop()
