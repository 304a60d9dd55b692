"""Fleets: several targets in one run, every check once per target, test ids naming host:port."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from redis_preflight.config.settings import EPHEMERAL, PreflightSettings, SettingsError, source_of
from redis_preflight.config.target import Target, TargetError, parse_target


@dataclass(frozen=True)
class GivenUrl:
    """A URL as the user gave it, and where, so a usage error can point at it."""

    url: str
    where: str


def given_urls(
    settings: PreflightSettings, cli: dict[str, Any], env_file: Path | None, base: Path
) -> list[GivenUrl]:
    """--redis-url / REDIS_URL (one or several) then the targets file; a URL given twice counts once."""
    urls = settings.redis_urls
    source = source_of("redis_url", cli, env_file)
    given = [
        GivenUrl(url, "REDIS_URL" if len(urls) == 1 else f"REDIS_URL (URL {n} of {len(urls)} from {source})")
        for n, url in enumerate(urls, 1)
    ]
    if settings.targets_file is not None:
        given += read_targets_file(base / settings.targets_file, source_of("targets_file", cli, env_file))
    unique = {item.url: item for item in reversed(given)}
    return [item for item in given if unique[item.url] is item]


def read_targets_file(path: Path, source: str) -> list[GivenUrl]:
    """One URL per line; blank lines and anything after # are ignored."""
    if not path.is_file():
        raise SettingsError(f"targets file {path} from {source} not found")
    given = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        # A '#' can never be part of a working Redis URL unencoded (it starts a fragment).
        words = line.split("#", 1)[0].split()
        if len(words) > 1:
            raise TargetError(f"invalid target on line {number} of {path}: one URL per line")
        given += [GivenUrl(words[0], f"line {number} of {path}")] if words else []
    if not given:
        raise SettingsError(f"targets file {path} lists no Redis URL (one per line; # starts a comment)")
    return given


def parse_all(given: Sequence[GivenUrl]) -> list[Target]:
    """Every target parsed before any traffic; the first bad one is named."""
    targets = []
    for item in given:
        if item.url == EPHEMERAL and len(given) > 1:
            raise TargetError(f"'ephemeral' from {item.where} cannot be part of a fleet: give it alone")
        try:
            targets.append(parse_target(item.url))
        except TargetError as e:
            shown = f"target on {item.where}" if item.where.startswith("line ") else item.where
            raise TargetError(f"invalid {shown}: {e}") from None
    return targets


def labels(targets: Sequence[Target]) -> list[str]:
    """host:port per target (service@sentinel for Sentinel); /db is added where two would clash."""
    names = [t.sentinels.label if t.sentinels else t.address for t in targets]
    return [
        f"{name}/{target.db}" if names.count(name) > 1 else name
        for name, target in zip(names, targets, strict=True)
    ]


def index_of(item: pytest.Item) -> int:
    """Which target of the fleet a check runs against."""
    callspec = getattr(item, "callspec", None)
    return int(callspec.params.get("preflight", 0)) if callspec else 0
