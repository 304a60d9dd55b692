"""The release-support table: where a version string lands."""

from __future__ import annotations

from datetime import date

import pytest

from redis_preflight.probes.server.versions import CHECKED, release_support, supported_lines


@pytest.mark.parametrize(
    ("version", "line", "supported", "ended"),
    [
        ("7.0.15", "7.0", False, date(2024, 7, 29)),
        ("6.0.20", "6.0", False, date(2023, 8, 15)),
        ("7.2.4", "7.2", True, None),
        ("6.2.20", "6.2", True, None),
        ("8.2.2", "8.2", True, None),
        ("9.0.0", "9.0", None, None),  # newer than the table
        ("4.0.14", "4.0", False, None),  # older than the table
        ("7.1.240", "7.1", False, None),  # a 7.2 release candidate
        ("unknown", "?", None, None),
    ],
)
def test_release_support(version, line, supported, ended):
    support = release_support(version)
    assert (support.line, support.supported, support.ended) == (line, supported, ended)
    assert support.checked == CHECKED.isoformat()


def test_supported_lines_newest_first():
    assert supported_lines() == "8.2, 8.0, 7.4, 7.2 or 6.2"
