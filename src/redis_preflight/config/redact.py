"""Secrets never leave: every text a report can carry is scrubbed of them."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import pytest

MASK = "***"
# A password in any redis URL, whoever wrote it (an exception message, a log line).
_URL_PASSWORD = re.compile(r"(rediss?://[^:/@\s]*:)([^@\s/]+)(@)")

# The health URL (HEALTH_URL) may carry a password or a token: any http(s) URL's password, and
# any credential-like query value (?token=..., &api_key=...), are masked wherever they appear.
CREDENTIAL_PARAM = r"[\w.-]*(?:token|key|secret|pass|pwd|auth|sig|session|credential)[\w.-]*"
_HTTP_PASSWORD = re.compile(r"(https?://[^:/@\s]*:)([^@\s/]+)(@)")
_QUERY_SECRET = re.compile(rf"((?:[?&]|&amp;)(?:{CREDENTIAL_PARAM})=)([^&#\s\"'<]+)", re.IGNORECASE)


class Redactor:
    """Replaces known secrets, URL passwords and credential-like query values with ***."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first, so a secret that contains another is masked whole.
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        text = _URL_PASSWORD.sub(rf"\1{MASK}\3", text)
        text = _HTTP_PASSWORD.sub(rf"\1{MASK}\3", text)
        return _QUERY_SECRET.sub(rf"\1{MASK}", text)

    def leaks(self, text: str) -> bool:
        return self.scrub(text) != text

    def scrub_report(self, report: pytest.TestReport) -> None:
        """Scrub a test report's traceback, captured output and properties in place."""
        if isinstance(report.longrepr, tuple):  # a skip: (path, line, reason) must stay a tuple
            path, line, reason = report.longrepr
            report.longrepr = (path, line, self.scrub(reason))
        elif report.longrepr is not None and self.leaks(str(report.longrepr)):
            report.longrepr = self.scrub(str(report.longrepr))
        report.sections = [(name, self.scrub(body)) for name, body in report.sections]
        report.user_properties = [
            (name, self.scrub(value) if isinstance(value, str) else value)
            for name, value in report.user_properties
        ]

    def scrub_file(self, path: Path) -> bool:
        """Last line of defence for a written report; True if it had to change anything."""
        if not path.is_file():
            return False
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        clean = self.scrub(text)
        if clean != text:
            path.write_text(clean, encoding="utf-8", errors="surrogateescape")
        return clean != text
