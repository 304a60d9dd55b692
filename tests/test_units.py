"""URL parsing, redaction, settings priority and profile inference: no server needed."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from redis_preflight.config.profiles import Profile, infer_profile
from redis_preflight.config.redact import Redactor
from redis_preflight.config.settings import SettingsError, load_settings
from redis_preflight.config.target import TargetError, parse_target


@pytest.mark.parametrize(
    ("url", "redacted"),
    [
        ("redis://localhost:6379/0", "redis://localhost:6379/0"),
        ("redis://h", "redis://h:6379/0"),
        ("redis://:pw@h:1/3", "redis://:***@h:1/3"),
        ("redis://app:pw@h:6380/0", "redis://app:***@h:6380/0"),
        ("rediss://h:6380/0", "rediss://h:6380/0"),
        ("redis://[::1]:7000/2", "redis://[::1]:7000/2"),
        ("unix:///run/redis.sock?db=4", "unix:///run/redis.sock?db=4"),
        ("unix://u:pw@/run/redis.sock", "unix://u:***@/run/redis.sock?db=0"),
    ],
)
def test_parse_and_redact(url, redacted):
    assert parse_target(url).redacted == redacted


def test_url_encoded_password_is_decoded_and_both_spellings_are_secret():
    target = parse_target("redis://user:p%40ss%2Fw@host:6379/0")
    assert target.password.get_secret_value() == "p@ss/w"
    assert target.username == "user"
    assert set(target.secrets) == {"p@ss/w", "p%40ss%2Fw"}
    assert "p@ss" not in repr(target)


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("", "empty"),
        ("http://h:6379", "unsupported scheme 'http'"),
        ("h:6379", "unsupported scheme"),
        ("redis://h:70000/0", "bad port"),
        ("redis://h:abc/0", "bad port"),
        ("redis://h:6379/zero", "bad db index 'zero'"),
        ("redis://:6379/0", "no host"),
        ("unix://", "no socket path"),
    ],
)
def test_malformed_urls_name_the_bad_part(url, named):
    with pytest.raises(TargetError, match=named):
        parse_target(url)


@pytest.mark.parametrize(
    ("url", "profile"),
    [
        ("redis://127.0.0.1:6379", Profile.LOCAL),
        ("redis://127.3.4.5:6379", Profile.LOCAL),
        ("redis://localhost:6379", Profile.LOCAL),
        ("redis://[::1]:6379", Profile.LOCAL),
        ("unix:///tmp/r.sock", Profile.LOCAL),
        ("redis://redis.example.com:6379", Profile.REMOTE),
        ("rediss://10.0.0.5:6380", Profile.REMOTE),
    ],
)
def test_profile_inference(url, profile):
    assert infer_profile(parse_target(url))[0] is profile


def test_redactor_masks_secrets_and_any_credential_url():
    redactor = Redactor(["hunter2-long"])
    text = "AUTH hunter2-long failed; see rediss://bob:other@h:1/0 and redis://h:2/0"
    assert redactor.scrub(text) == "AUTH *** failed; see rediss://bob:***@h:1/0 and redis://h:2/0"
    assert not redactor.leaks("redis://h:2/0 is fine")


@pytest.fixture
def no_env(monkeypatch):
    for name in ("REDIS_URL", "PREFLIGHT_REDIS_URL", "PREFLIGHT_PROFILE", "PREFLIGHT_SOCKET_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_settings_priority_cli_env_file_defaults(no_env, tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("REDIS_URL=redis://file:1/0\nPREFLIGHT_SOCKET_TIMEOUT=3\nAPP_SECRET=x\n")
    from_file = load_settings({}, env_file)
    assert from_file.redis_url.get_secret_value() == "redis://file:1/0"
    assert from_file.socket_timeout == 3
    assert from_file.connect_timeout == 5  # default
    no_env.setenv("REDIS_URL", "redis://env:1/0")
    assert load_settings({}, env_file).redis_url.get_secret_value() == "redis://env:1/0"
    cli = load_settings({"redis_url": "redis://cli:1/0", "socket_timeout": 2.0}, env_file)
    assert cli.redis_url.get_secret_value() == "redis://cli:1/0"
    assert cli.socket_timeout == 2.0
    assert isinstance(cli.redis_url, SecretStr)
    assert "cli:1" not in repr(cli)


def test_bad_setting_names_value_and_source(no_env, tmp_path):
    no_env.setenv("PREFLIGHT_PROFILE", "staging")
    with pytest.raises(SettingsError, match=r"invalid profile 'staging' from the environment"):
        load_settings({}, None)
    no_env.delenv("PREFLIGHT_PROFILE")
    with pytest.raises(SettingsError, match=r"from the command line \(--socket-timeout\)"):
        load_settings({"socket_timeout": -1.0}, None)
    env_file = tmp_path / ".env"
    env_file.write_text("PREFLIGHT_CONNECT_TIMEOUT=soon\n")
    with pytest.raises(SettingsError, match=r"from the env file"):
        load_settings({}, env_file)


def test_empty_values_in_env_file_fall_back_to_defaults(no_env, tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("PREFLIGHT_PROFILE=\nPREFLIGHT_SOCKET_TIMEOUT=\n")
    settings = load_settings({}, env_file)
    assert settings.profile is None
    assert settings.socket_timeout == 5


def test_one_option_table_feeds_every_setting():
    from redis_preflight.config.options import FLAGS, OPTIONS
    from redis_preflight.config.settings import PreflightSettings

    assert set(FLAGS) == set(PreflightSettings.model_fields)
    assert all(option.flag == "--" + option.field.replace("_", "-") for option in OPTIONS)


def test_each_setting_names_its_own_source(no_env, tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("PREFLIGHT_SOCKET_TIMEOUT=3\n")
    no_env.setenv("PREFLIGHT_REDIS_URL", "redis://env:1/0")
    no_env.setenv("PREFLIGHT_PROFILE", "remote")
    settings = load_settings({"connect_timeout": 2.0, "profile": None}, env_file)
    assert [settings.source_of(name) for name in ("connect_timeout", "redis_url", "profile")] == [
        "the command line (--connect-timeout)",
        "the environment (PREFLIGHT_REDIS_URL)",
        "the environment (PREFLIGHT_PROFILE)",
    ]
    assert settings.source_of("socket_timeout") == f"the env file ({env_file})"
    assert settings.source_of("latency_samples") == "the defaults"
