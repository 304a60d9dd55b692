"""Key names as reports show them: printable, bounded, and with secrets masked.

Key names come from other people's servers and may hold anything: HTML, newlines, terminal
escapes, invalid UTF-8, tokens. Everything that names a key in a finding goes through here.
"""

from __future__ import annotations

import re

SHOWN_CHARS = 80
SECRET_SHOWN_CHARS = 6
NO_PREFIX = "(no family prefix)"


def printable(raw: bytes) -> str:
    """UTF-8 where it is, `\\xNN` where it is not, and escapes for every non-printable character."""
    text = raw.decode("utf-8", "backslashreplace")
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def shown(key: bytes, secret_from: int | None = None) -> str:
    """`key` as a report shows it; with `secret_from`, the bytes after it are masked.

    A masked key keeps its first characters and length, enough to find it, not to use it:
    `blacklist:eyJhbG...(43 chars)`.
    """
    if secret_from is not None:
        secret = key[secret_from:]
        head = printable(key[:secret_from]) + printable(secret[:SECRET_SHOWN_CHARS])
        return f"{head}...({len(secret)} chars)"
    text = printable(key)
    if len(text) <= SHOWN_CHARS:
        return text
    return f"{text[: SHOWN_CHARS - 20]}...({len(key)} bytes)"


def prefix_of(key: bytes) -> bytes:
    """The group an unmatched key is counted in: its name up to the first colon, or, in a name
    without one (`celery-task-meta-<uuid>`, `session.abc`), its leading literal part."""
    colon = key.find(b":")
    if colon >= 0:
        return key[: colon + 1]
    literal = b""
    for match in _PART.finditer(key):
        part, separator = match.group(1), match.group(2)
        if not separator or _looks_variable(part):
            break
        literal = key[: match.end()]
    return literal


# A part of a name and the separator after it (none for the last part).
_PART = re.compile(rb"([^-._/|]*)([-._/|]?)")


def _looks_variable(part: bytes) -> bool:
    """An id, a number, a hash or a date, not a word a developer chose."""
    return any(48 <= byte <= 57 for byte in part) or len(part) >= 24


def shown_prefix(prefix: bytes) -> str:
    return f"{shown(prefix)}*" if prefix else NO_PREFIX


# The parts of a key name that vary from key to key, most specific first: `{jwt}`, `{uuid}`,
# long hex (`{hex}`), digits (`{n}`). What is left is the family's template.
_VARYING = (
    (re.compile(rb"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), b"{jwt}"),
    (re.compile(rb"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"), b"{uuid}"),
    (re.compile(rb"(?<![0-9A-Za-z])(?=[0-9a-fA-F]*[0-9])[0-9a-fA-F]{12,}(?![0-9A-Za-z])"), b"{hex}"),
    (re.compile(rb"[0-9]+"), b"{n}"),
)
PLACEHOLDER = re.compile(rb"\{(jwt|uuid|hex|n)\}")


def template_of(key: bytes) -> bytes:
    """`session:6f1c...-...:cart` -> `session:{uuid}:cart`: the name with its varying parts named."""
    for pattern, placeholder in _VARYING:
        key = pattern.sub(placeholder, key)
    return key


def family_prefix(template: bytes) -> bytes:
    """The prefix a contract can match for a template: up to the last colon before its first
    placeholder (`ws:conn_{n}` -> `ws:`), or for a name without one, up to its last colon
    (`config:app` joins the other `config:*` keys)."""
    found = PLACEHOLDER.search(template)
    head = template[: found.start()] if found is not None else template
    colon = head.rfind(b":")
    return head[: colon + 1] if colon >= 0 else (head or template)
