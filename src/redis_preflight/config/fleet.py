"""Fleets: several targets in one run, every check once per target, test ids naming host:port."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from redis_preflight.config.settings import EPHEMERAL, PreflightSettings, SettingsError
from redis_preflight.config.target import Target, TargetError, parse_target

# A fleet's targets file is a few hundred lines; a larger file is the wrong file, not read whole.
MAX_TARGETS_FILE_BYTES = 1 << 20
_COMMENT = re.compile(r"(?:^|\s)#.*")


@dataclass(frozen=True)
class GivenUrl:
    """A URL as the user gave it, and where, so a usage error can point at it."""

    url: str
    where: str


def given_urls(settings: PreflightSettings, base: Path) -> list[GivenUrl]:
    """--redis-url / REDIS_URL (one or several) then the targets file; a URL given twice counts once."""
    urls = settings.redis_urls
    source = settings.source_of("redis_url")
    given = [
        GivenUrl(url, "REDIS_URL" if len(urls) == 1 else f"REDIS_URL (URL {n} of {len(urls)} from {source})")
        for n, url in enumerate(urls, 1)
    ]
    if settings.targets_file is not None:
        given += read_targets_file(base / settings.targets_file, settings.source_of("targets_file"))
    unique = {item.url: item for item in reversed(given)}
    return [item for item in given if unique[item.url] is item]


def read_targets_file(path: Path, source: str) -> list[GivenUrl]:
    """One URL per line; blank lines and comments (# at a line's start or after a space) are ignored."""
    given = []
    for number, line in enumerate(_targets_text(path, source).splitlines(), 1):
        # A '#' inside a URL stays in it: a password holding one is then named, not cut short.
        words = _COMMENT.sub("", line).split()
        if len(words) > 1:
            raise TargetError(f"invalid target on line {number} of {path}: one URL per line")
        given += [GivenUrl(words[0], f"line {number} of {path}")] if words else []
    if not given:
        raise SettingsError(f"targets file {path} lists no Redis URL (one per line; # starts a comment)")
    return given


def _targets_text(path: Path, source: str) -> str:
    """The file's text, read no further than MAX_TARGETS_FILE_BYTES."""
    try:
        with path.open("rb") as file:
            data = file.read(MAX_TARGETS_FILE_BYTES + 1)
    except FileNotFoundError:
        raise SettingsError(f"targets file {path} from {source} not found") from None
    except OSError as e:
        raise SettingsError(f"targets file {path} from {source} cannot be read: {e.strerror}") from None
    if len(data) > MAX_TARGETS_FILE_BYTES:
        raise SettingsError(
            f"targets file {path} from {source} is over {MAX_TARGETS_FILE_BYTES >> 20} MiB: "
            "it should list Redis URLs, one per line; is it the right file?"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SettingsError(
            f"targets file {path} from {source} is not UTF-8 text (byte {e.start}): "
            "it should list Redis URLs, one per line; is it the right file?"
        ) from None


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


def shard(targets: Sequence[Target], k: int, n: int) -> list[int]:
    """The indexes of the K-th of N shares of the fleet, in the order given.

    Targets are ranked by a hash of their redacted URL and dealt out in turn: the shares differ
    in size by one at most, and reordering the targets file moves no target to another share.
    """
    ranked = sorted(range(len(targets)), key=lambda i: hashlib.sha256(targets[i].redacted.encode()).digest())
    return sorted(ranked[k - 1 :: n])


def index_of(item: pytest.Item) -> int:
    """Which target of the fleet a check runs against."""
    callspec = getattr(item, "callspec", None)
    return int(callspec.params.get("preflight", 0)) if callspec else 0
