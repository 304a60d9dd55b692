"""What a URL parser gets wrong quietly: unencoded characters in a password, impossible host names.

A password holding an unencoded `#`, `/` or `?` ends the URL's host part early: the parser then
takes part of the password for a host or a port, and would quote it in its error. These checks
run before any parsing and never quote the URL.
"""

from __future__ import annotations

import ipaddress

ENCODED = {"/": "%2F", "?": "%3F", "#": "%23", "@": "%40"}
MAX_LABEL = 63  # RFC 1035: one label of a DNS name
MAX_NAME = 253  # RFC 1035: the whole name, dots included


def bad_port(example: str, what: str = "port") -> str:
    """The parser's own message would quote the "port": without '@HOST' it is the password."""
    return (
        f"bad {what}: the text after ':' in the host part is not a number from 1 to 65535 (if that "
        f"text is a password, the URL lacks '@HOST': {example})"
    )


def unencoded_in_userinfo(url: str, *, strict: bool = True) -> str | None:
    """Which reserved characters the user name or password holds unencoded, as advice; None if none.

    strict (Redis URLs): an '@' anywhere after the host part means the userinfo was cut short.
    Not strict (http URLs, whose query may hold an e-mail address): only when the host part that
    the parser would see is not HOST[:PORT].
    """
    _, sep, rest = url.partition("://")
    if not sep:
        return None
    end = min((rest.find(c) for c in "/?#" if c in rest), default=len(rest))
    authority, after = rest[:end], rest[end:]
    if authority.count("@") > 1:
        userinfo = authority.rpartition("@")[0]
    elif "@" in after and (strict or ("@" not in authority and not _is_host_port(authority))):
        userinfo = rest.rpartition("@")[0]
    else:
        return None
    found = [c for c in ENCODED if c in userinfo]
    encode = ", ".join(f"'{c}' as {ENCODED[c]}" for c in found)
    return (
        f"the user name or password holds an unencoded {' '.join(found)}: URL-encode {encode} "
        "(the URL is not shown: it holds the password)"
    )


def _is_host_port(authority: str) -> bool:
    _, bracket, after = authority.partition("]")
    port_text = after if bracket else authority
    _, colon, port = port_text.rpartition(":")
    return not colon or port.isdigit()


def host_name_problem(host: str) -> str | None:
    """Why `host` cannot be looked up in DNS (a label over 63, a name over 253); None if it can."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return None
    name = host.rstrip(".")
    if len(name) > MAX_NAME:
        return f"the host name is {len(name)} characters, over DNS's {MAX_NAME}"
    for label in name.split("."):
        if len(label) > MAX_LABEL:
            return f"the host name label {label[:20]!r}... is {len(label)} characters, over DNS's {MAX_LABEL}"
        if not label:
            return f"the host name {host[:80]!r} has an empty label (two dots in a row)"
    try:
        name.encode("idna")
    except UnicodeError as e:
        return f"the host name {host[:80]!r} is not a valid DNS name ({e})"
    return None
