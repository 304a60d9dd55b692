"""Secrets never leave: text is built redacted by field, and scrubbed once more on its way out.

Redacting by field means finding the place a secret sits (a URL's userinfo, a credential-like
query value, an Authorization header) and masking that place whatever its content. Replacing a
known secret wherever it appears is the last line only, and only for secrets long enough not to
be an ordinary word: password `mm` would turn "commands" into "co***ands" and so point at itself.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

MASK = "***"
# Shorter secrets are kept out by construction (never formatted into text), not searched for.
MIN_SECRET_LENGTH = 8

# Any URL with userinfo, whoever wrote it (an exception, a log line, an echoed request). The
# userinfo runs to the token's last '@': a password holding an unencoded '/', '#' or '?' is still
# masked whole. An http(s) userinfo without ':' is a token (https://TOKEN@host) and masked too.
_URL = re.compile(r"\b(rediss?|redis\+sentinel|unix|https?)://([^\s'\"<>]+)")

# The health URL (HEALTH_URL) may carry a token: any credential-like query value is masked.
CREDENTIAL_PARAM = r"[\w.-]*(?:token|key|secret|pass|pwd|auth|sig|session|credential)[\w.-]*"
_QUERY_SECRET = re.compile(rf"((?:[?&]|&amp;)(?:{CREDENTIAL_PARAM})=)([^&#\s\"'<]+)", re.IGNORECASE)
# An Authorization header as an endpoint may echo it: `Authorization: Basic ...`, JSON, repr.
_AUTHORIZATION = re.compile(
    r"((?:proxy-)?authorization(?:&quot;|&#x27;|[\"'])?\s*[:=]\s*(?:&quot;|&#x27;|[\"'])?"
    r"(?:(?:basic|bearer|digest|token|negotiate)\s+)?)"
    r"([^\s\"'&<>,}]+)",
    re.IGNORECASE,
)
# A local variable named like a credential, as `pytest -l` lists a traceback's locals
# (`password   = 'mm'`): a probe or a client library may hold one as text.
_SECRET_LOCAL = re.compile(
    r"^(\w*(?:password|passwd|auth_args|secret|token|credential|authorization)\w*\s*= ).+$",
    re.IGNORECASE | re.MULTILINE,
)
# Basic credentials alone: masked when the base64 decodes to user:password.
_BASIC = re.compile(r"\b(Basic\s+)([A-Za-z0-9+/]{4,}={0,2})")


class Redactor:
    """Masks credentials by field, and known secrets of MIN_SECRET_LENGTH or more, with ***."""

    def __init__(self, secrets: Iterable[str] = (), live: Callable[[], Iterable[str]] | None = None) -> None:
        self._fixed = {s for s in secrets if len(s) >= MIN_SECRET_LENGTH}
        # Secrets learned during the run (cloud tokens, refreshed as they expire).
        self._live = live
        self._sorted: tuple[frozenset[str], list[str]] = (frozenset(), self._longest_first(set()))

    @property
    def secrets(self) -> list[str]:
        """Longest first, so a secret that contains another is masked whole."""
        learned = (
            frozenset(s for s in self._live() if len(s) >= MIN_SECRET_LENGTH) if self._live else frozenset()
        )
        if learned != self._sorted[0]:  # sorted again only when a token was handed out
            self._sorted = (learned, self._longest_first(learned))
        return self._sorted[1]

    def _longest_first(self, learned: Iterable[str]) -> list[str]:
        return sorted(self._fixed.union(learned), key=len, reverse=True)

    def scrub(self, text: str) -> str:
        text = redact_fields(text)
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text

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
        """Last line of defence for a written file; True if it had to change anything."""
        if not path.is_file():
            return False
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        clean = self.scrub(text)
        if clean != text:
            path.write_text(clean, encoding="utf-8", errors="surrogateescape")
        return clean != text


def redact_fields(text: str) -> str:
    """Mask every credential found by where it sits, whatever its length."""
    if ":" not in text and "=" not in text and "Basic" not in text:
        return text  # every field below sits after a ':' or an '=', or is a Basic credential
    text = _URL.sub(_redact_url, text)
    text = _QUERY_SECRET.sub(rf"\1{MASK}", text)
    text = _AUTHORIZATION.sub(rf"\1{MASK}", text)
    text = _SECRET_LOCAL.sub(rf"\1{MASK}", text)
    return _BASIC.sub(_redact_basic, text)


def _redact_url(match: re.Match[str]) -> str:
    scheme, rest = match.groups()
    userinfo, at, host = rest.rpartition("@")
    if not at or not userinfo:
        return match.group(0)
    user, colon, _ = userinfo.partition(":")
    if colon:
        return f"{scheme}://{user}:{MASK}@{host}"
    return f"{scheme}://{MASK}@{host}" if scheme.startswith("http") else match.group(0)


def _redact_basic(match: re.Match[str]) -> str:
    try:
        decoded = base64.b64decode(match.group(2), validate=True)
    except (binascii.Error, ValueError):
        return match.group(0)
    return f"{match.group(1)}{MASK}" if b":" in decoded else match.group(0)
