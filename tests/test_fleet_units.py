"""Sentinel URLs, targets files, fleet labels and repeated URLs: no server needed."""

from __future__ import annotations

import pytest

from redis_preflight.config.fleet import GivenUrl, labels, parse_all, read_targets_file
from redis_preflight.config.profiles import Profile, infer_profile
from redis_preflight.config.settings import SettingsError, load_settings
from redis_preflight.config.target import TargetError, parse_target


@pytest.mark.parametrize(
    ("url", "redacted", "label"),
    [
        ("redis+sentinel://h1/mymaster", "redis+sentinel://h1:26379/mymaster/0", "mymaster@h1:26379"),
        (
            "redis+sentinel://:p%40ss@h1:26380,h2:26381/cache/2",
            "redis+sentinel://:***@h1:26380,h2:26381/cache/2",
            "cache@h1:26380",
        ),
        (
            "redis+sentinel://app:pw@[::1]:26379,127.0.0.1/m/0",
            "redis+sentinel://app:***@[::1]:26379,127.0.0.1:26379/m/0",
            "m@[::1]:26379",
        ),
    ],
)
def test_sentinel_url_parses_and_redacts(url, redacted, label):
    target = parse_target(url)
    assert target.redacted == redacted
    assert target.address == label  # before the sentinels are asked, ids name the first sentinel
    assert target.sentinels is not None
    assert target.sentinels.label == label


def test_sentinel_url_keeps_credentials_for_the_primary():
    target = parse_target("redis+sentinel://app:p%40ss@h1:26379/mymaster/3")
    assert (target.username, target.password.get_secret_value(), target.db) == ("app", "p@ss", 3)
    assert target.secrets == ("p@ss", "p%40ss")
    assert target.sentinels.addresses == (("h1", 26379),)


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("redis+sentinel://h1:26379", "no service name"),
        ("redis+sentinel://h1:26379/", "no service name"),
        ("redis+sentinel://h1:99999/m", "bad sentinel port"),
        ("redis+sentinel://h1:26379,:26380/m", "a sentinel has no host"),
        ("redis+sentinel://h1:26379/m/zero", "bad db index 'zero'"),
    ],
)
def test_malformed_sentinel_urls_name_the_bad_part(url, named):
    with pytest.raises(TargetError, match=named):
        parse_target(url)


def test_sentinel_profile_follows_the_sentinels_hosts():
    assert infer_profile(parse_target("redis+sentinel://127.0.0.1,localhost/m"))[0] is Profile.LOCAL
    assert infer_profile(parse_target("redis+sentinel://127.0.0.1,10.0.0.2/m"))[0] is Profile.REMOTE


def test_targets_file_skips_comments_and_blank_lines(tmp_path):
    path = tmp_path / "fleet.txt"
    path.write_text("# staging and production\n\nredis://a:1/0  # staging\n   redis://b:2/0\n")
    given = read_targets_file(path, "the command line (--targets-file)")
    assert [(g.url, g.where) for g in given] == [
        ("redis://a:1/0", f"line 3 of {path}"),
        ("redis://b:2/0", f"line 4 of {path}"),
    ]


def test_targets_file_with_two_urls_on_a_line_names_it(tmp_path):
    path = tmp_path / "fleet.txt"
    path.write_text("redis://a:1/0\nredis://b:2/0 redis://c:3/0\n")
    with pytest.raises(TargetError, match=r"line 2 of .*: one URL per line"):
        read_targets_file(path, "here")


def test_empty_or_missing_targets_file_is_a_usage_error(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing yet\n")
    with pytest.raises(SettingsError, match="lists no Redis URL"):
        read_targets_file(empty, "here")
    with pytest.raises(SettingsError, match=r"missing.txt from here not found"):
        read_targets_file(tmp_path / "missing.txt", "here")


def test_a_bad_url_in_a_fleet_is_named_by_where_it_came_from():
    given = [GivenUrl("redis://a:1/0", "line 1 of f"), GivenUrl("redis://b:70000/0", "line 2 of f")]
    with pytest.raises(TargetError, match=r"^invalid target on line 2 of f: bad port"):
        parse_all(given)
    with pytest.raises(TargetError, match="cannot be part of a fleet"):
        parse_all([GivenUrl("ephemeral", "REDIS_URL (URL 1 of 2)"), given[0]])


def test_labels_are_host_port_and_add_the_db_only_when_two_clash():
    targets = [parse_target(u) for u in ("redis://a:1/0", "redis://a:1/2", "rediss://:pw@b:2/0")]
    assert labels(targets) == ["a:1/0", "a:1/2", "b:2"]


def test_repeated_redis_url_becomes_one_setting_with_every_url(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    settings = load_settings({"redis_url": ["redis://a:1/0", "redis://b:2/0"]}, None)
    assert settings.redis_urls == ["redis://a:1/0", "redis://b:2/0"]
    monkeypatch.setenv("REDIS_URL", "redis://a:1/0\n  redis://b:2/0 redis://c:3/0")
    assert len(load_settings({}, None).redis_urls) == 3
