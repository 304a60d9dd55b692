"""Which Redis release lines still get security fixes: a small table, with the date it was checked.

Redis supports the latest release, the previous minor and the previous major; a line leaves
the table when a new release pushes it out. The dates below are those of the release that did.
Sources: redis/redis SECURITY.md at each release, and the October 2025 fixes for CVE-2025-49844,
which shipped for 8.2, 8.0, 7.4, 7.2 and 6.2 (so those were still supported then).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

CHECKED = date(2025, 10, 3)

# (major, minor) -> the last day of security fixes; None: still getting them on CHECKED.
RELEASE_LINES: dict[tuple[int, int], date | None] = {
    (8, 2): None,
    (8, 0): None,
    (7, 4): None,
    (7, 2): None,
    (7, 0): date(2024, 7, 29),  # 7.4.0: SECURITY.md lists 7.4, 7.2 and 6.2
    (6, 2): None,
    (6, 0): date(2023, 8, 15),  # 7.2.0
    (5, 0): date(2022, 4, 27),  # 7.0.0: SECURITY.md lists 7.0, 6.2 and 6.0
}


@dataclass(frozen=True)
class ReleaseSupport:
    """Where a server's version stands in the table."""

    version: str
    line: str
    supported: bool | None  # None: a line newer than the table, or a version we cannot read
    ended: date | None = None

    @property
    def checked(self) -> str:
        return CHECKED.isoformat()


def release_support(version: str) -> ReleaseSupport:
    """Look `version` (INFO's redis_version, e.g. "7.0.15") up in the table."""
    match = re.match(r"(\d+)\.(\d+)", version)
    if match is None:
        return ReleaseSupport(version, "?", None)
    line = (int(match[1]), int(match[2]))
    shown = f"{line[0]}.{line[1]}"
    if line in RELEASE_LINES:
        ended = RELEASE_LINES[line]
        return ReleaseSupport(version, shown, ended is None, ended)
    if line > max(RELEASE_LINES):
        return ReleaseSupport(version, shown, None)
    # Older than the table, or an odd minor between its lines (7.1, 6.9: release candidates).
    return ReleaseSupport(version, shown, False)


def supported_lines() -> str:
    """The lines still getting fixes on CHECKED, newest first: "8.2, 8.0, 7.4, 7.2 or 6.2"."""
    live = [
        f"{major}.{minor}"
        for (major, minor), ended in sorted(RELEASE_LINES.items(), reverse=True)
        if not ended
    ]
    return ", ".join(live[:-1]) + f" or {live[-1]}"
