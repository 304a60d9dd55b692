"""Redaction by field, and URL parse errors that never quote the password."""

from __future__ import annotations

import pytest

from redis_preflight.config.health_url import HealthUrlError, parse_health_url
from redis_preflight.config.redact import Redactor, redact_fields
from redis_preflight.config.target import TargetError, parse_target


@pytest.mark.parametrize("password", ["mm", "redis", "ok", "7.0.15x"])
def test_short_secrets_never_corrupt_ordinary_text(password):
    text = "dangerous commands left enabled on redis 7.0.15; looks ok"
    assert Redactor([password]).scrub(text) == text


def test_long_secrets_are_still_masked_wherever_they_appear():
    assert Redactor(["a-long-secret"]).scrub("AUTH a-long-secret refused") == "AUTH *** refused"


def test_a_token_handed_out_during_the_run_is_masked_from_then_on():
    handed_out: list[str] = []
    redactor = Redactor(["a-long-secret"], live=lambda: handed_out)
    assert redactor.scrub("token first-token-value") == "token first-token-value"
    handed_out.append("first-token-value")
    handed_out.append("refreshed-token-value-longer")
    text = "a-long-secret first-token-value refreshed-token-value-longer"
    assert redactor.scrub(text) == "*** *** ***"
    handed_out.clear()
    assert redactor.scrub("first-token-value") == "first-token-value"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("redis://app:mm@h:6379/0", "redis://app:***@h:6379/0"),
        ("rediss://:ok@h:6380/0 and redis://h:1/0", "rediss://:***@h:6380/0 and redis://h:1/0"),
        (
            "['--redis-url', 'redis://app:LEAK#x@host:6390/0']",
            "['--redis-url', 'redis://app:***@host:6390/0']",
        ),
        ("redis://app:a/b?c@host/0", "redis://app:***@host/0"),
        ("redis+sentinel://:pw@h1:26379,h2:26379/m/0", "redis+sentinel://:***@h1:26379,h2:26379/m/0"),
        ("unix://:pw@/tmp/redis.sock?db=0", "unix://:***@/tmp/redis.sock?db=0"),
        ("redis://app@h/0", "redis://app@h/0"),  # a user name alone is no secret
        ("https://TOKEN@ci.example/h", "https://***@ci.example/h"),  # in http, it is a token
        ("GET /h?token=ok&detail=1", "GET /h?token=***&detail=1"),
        ('{"Authorization": "Basic cHJvYmU6dXA="}', '{"Authorization": "Basic ***"}'),
        ("Proxy-Authorization: Bearer abc.def", "Proxy-Authorization: Bearer ***"),
        ("header Basic cHJvYmU6dXA= echoed", "header Basic *** echoed"),
        ("Basic auth is off", "Basic auth is off"),  # decodes to no user:password
        ("auth_args  = ('app', 'mm')\nself = <Conn>", "auth_args  = ***\nself = <Conn>"),  # pytest -l
        ("    password = target.password", "    password = target.password"),  # source, not a local
    ],
)
def test_credentials_are_masked_by_where_they_sit(text, shown):
    assert redact_fields(text) == shown


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("redis://app:LEAKpartB#x@host:6390/0", "unencoded #: URL-encode '#' as %23"),
        ("redis://app:LEAKpartB/x@host:6390/0", "unencoded /: URL-encode '/' as %2F"),
        ("redis://app:LEAKpartB?x@host:6390/0", "unencoded ?: URL-encode '?' as %3F"),
        ("redis://app:LEAK@partB@host:6390/0", "unencoded @: URL-encode '@' as %40"),
        ("redis://app:LEAK@part#B@host:6390/0", "unencoded # @: URL-encode '#' as %23, '@' as %40"),
        ("redis+sentinel://:LEAKpartB#x@h1:26379/m/0", "unencoded #: URL-encode '#' as %23"),
        ("redis://app:LEAKpartB", "bad port: the text after ':' in the host part is not a number"),
        ("redis+sentinel://:LEAKpartB/m/0", "bad sentinel port: the text after"),
    ],
)
def test_redis_url_errors_name_the_character_never_the_password(url, said):
    with pytest.raises(TargetError) as raised:
        parse_target(url)
    assert said in str(raised.value)
    assert "LEAK" not in str(raised.value)
    assert "partB" not in str(raised.value)


def test_health_url_errors_name_the_character_never_the_password():
    with pytest.raises(HealthUrlError, match="unencoded /: URL-encode '/' as %2F") as raised:
        parse_health_url("https://mon:LEAK/x@app.example/health")
    assert "LEAK" not in str(raised.value)
    # An '@' in the query of a well-formed URL is an e-mail address, not a broken password.
    assert parse_health_url("https://app.example:8443/health?contact=a@b.example").redacted == (
        "https://app.example:8443/health?contact=a@b.example"
    )


@pytest.mark.parametrize(
    ("host", "said"),
    [
        ("a" * 64 + ".example.com", "label 'aaaaaaaaaaaaaaaaaaaa'... is 64 characters, over DNS's 63"),
        (".".join(["b" * 63] * 4), "the host name is 255 characters, over DNS's 253"),
        ("a..b", "has an empty label"),
    ],
)
def test_impossible_host_names_are_refused_before_any_lookup(host, said):
    with pytest.raises(TargetError, match=said.replace("(", r"\(").replace(".", r"\.")):
        parse_target(f"redis://{host}:6379/0")
