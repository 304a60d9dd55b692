"""The wording of the application's health endpoint failures (HEALTH_URL)."""

from __future__ import annotations

import http.client
import re
import socket
import ssl

from pydantic import ValidationError

from redis_preflight.config.health_url import SEED_PATH
from redis_preflight.errors.faults import Diagnosis, Fault, _chain, _first_line, _is_timeout

# `where` is always the redacted URL: a token in HEALTH_URL never reaches a message.

EXPECTED_DOCUMENT = '{"status": "healthy", "version": "...", "services": {"redis": true, ...}}'
_HTML_TITLE = re.compile(r"<title[^>]*>([^<]*)</title>", re.IGNORECASE)


def classify_health(error: BaseException, where: str, *, stage: str) -> Diagnosis:
    """A failure fetching the health URL; `stage` is "dns", "connect", "tls" or "request"."""
    chain = list(_chain(error))
    text = " | ".join(str(e) for e in chain)
    if any(isinstance(e, socket.gaierror) for e in chain) or stage == "dns":
        return _at(Fault.DNS, where, "check the host name in HEALTH_URL and DNS from this machine")
    if any(isinstance(e, ConnectionRefusedError) for e in chain):
        return _at(Fault.REFUSED, where, "nothing listens there; is the application running, on that port?")
    if any(isinstance(e, ssl.SSLCertVerificationError) for e in chain):
        reason = next(e.verify_message for e in chain if isinstance(e, ssl.SSLCertVerificationError))
        return _at(Fault.TLS_VERIFY, where, f"{reason}; give the CA that signs it with --health-ca-file")
    if "WRONG_VERSION_NUMBER" in text.upper():
        return _at(
            Fault.TLS_TO_PLAINTEXT, where, "the port answers plain HTTP; use http:// or the HTTPS port"
        )
    if _is_timeout(chain) and stage == "connect":
        return _at(Fault.CONNECT_TIMEOUT, where, "no answer to the TCP connect; check host, port, firewalls")
    if _is_timeout(chain):
        return _at(
            Fault.READ_TIMEOUT,
            where,
            "connected but no complete answer in time: the application (or its TLS) is stalled or waits "
            "on a slow dependency; check its logs, or raise --socket-timeout",
        )
    if any(isinstance(e, ssl.SSLError) for e in chain):
        return _at(Fault.TLS, where, f"{_first_line(text)}; check the HTTPS port and --health-ca-file")
    if any(isinstance(e, (http.client.HTTPException, ConnectionResetError)) for e in chain):
        return _at(
            Fault.NOT_HTTP,
            where,
            "the server hung up without an HTTP answer; if the port speaks HTTPS use https://",
        )
    return _at(Fault.OTHER, where, _first_line(text))


def classify_health_status(status: int, reason: str, where: str) -> Diagnosis | None:
    """None for 200; else what the status means for a health endpoint, and the next step."""
    seen = f"HTTP {status} {reason}".strip() + f" at {where}"
    if status == 200:
        return None
    if status == 404:
        path = f"{SEED_PATH} (http://HOST:8000{SEED_PATH})"
        return Diagnosis(Fault.HTTP_NOT_FOUND, f"{seen}: no such path; the application's endpoint is {path}")
    if status >= 500:
        return Diagnosis(
            Fault.HTTP_SERVER_ERROR,
            f"{seen}: the application failed or is down, or a proxy in front of it cannot reach it; "
            "check the application's process and logs",
        )
    return Diagnosis(
        Fault.HTTP_STATUS, f"{seen}, expected 200: check the URL, and its credentials or token for 401/403"
    )


def health_redirect_failure(hops: list[str], where: str, *, looped: bool, limit: int) -> Diagnosis:
    """Redirects that lead nowhere: a loop, too many, or a Location that is not http(s)."""
    path = " -> ".join(hops)
    if looped:
        return Diagnosis(
            Fault.REDIRECT_LOOP,
            f"redirect loop at {where}: {path}; fix the redirect rules of the application or its "
            "proxy (http->https, trailing slash), or give the final URL",
        )
    if len(hops) > limit + 1:
        return Diagnosis(Fault.REDIRECT_LOOP, f"over {limit} redirects at {where}: {path}; use the last URL")
    return Diagnosis(Fault.HTTP_STATUS, f"a redirect at {where} leads to {hops[-1]!r}; give the final URL")


def health_downgrade(hops: list[str], where: str) -> Diagnosis:
    """An https URL that redirects to plain http: not followed, whatever answers there."""
    return Diagnosis(
        Fault.REDIRECT_DOWNGRADE,
        f"the https health URL {where} redirects to plain http ({' -> '.join(hops)}): not followed, "
        "the request and the document would cross the network unencrypted; fix the redirect, or "
        "give the final https URL",
    )


def classify_health_body(error: ValidationError, body: bytes, content_type: str, where: str) -> Diagnosis:
    """Why the body is not the health document: HTML, invalid JSON, or missing/mistyped fields."""
    problems = error.errors()
    kinds = {problem["type"] for problem in problems}
    text = body.decode("utf-8", errors="replace").strip()
    if "json_invalid" in kinds and ("html" in content_type.lower() or text.startswith("<")):
        title = _HTML_TITLE.search(text)
        page = f" ({title.group(1).strip()[:80]!r})" if title else ""
        return Diagnosis(
            Fault.NOT_JSON,
            f"an HTML page{page} at {where} where JSON was expected: a proxy, login or error page "
            "answered; check that HEALTH_URL points at the application's health endpoint",
        )
    if "json_invalid" in kinds:
        seen = f"invalid JSON at {where} ({problems[0]['msg']}; body starts {text[:40]!r})"
        return Diagnosis(Fault.NOT_JSON, f"{seen}: expected {EXPECTED_DOCUMENT}")
    if "model_type" in kinds:
        return Diagnosis(
            Fault.BAD_DOCUMENT, f"JSON but not an object at {where}: expected {EXPECTED_DOCUMENT}"
        )
    missing = [_dotted(p["loc"]) for p in problems if p["type"] == "missing"]
    mistyped = [f"{_dotted(p['loc'])}: {p['msg'].lower()}" for p in problems if p["type"] != "missing"]
    said = "; ".join(([f"no {', '.join(missing)}"] if missing else []) + mistyped)
    return Diagnosis(
        Fault.BAD_DOCUMENT, f"the health document at {where} has {said}: expected {EXPECTED_DOCUMENT}"
    )


def _dotted(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc)


def _at(fault: Fault, where: str, next_step: str) -> Diagnosis:
    return Diagnosis(fault, f"{fault.value} at {where}: {next_step}")


def health_disagrees(fault: str, url: str, cache_headers: tuple[str, ...], url_source: str) -> str:
    """The application says redis: true, the verifier cannot reach Redis: the likely causes in
    order, each with what the evidence says of it."""
    cached = (
        f"likely, the answer came from a cache ({', '.join(cache_headers)})"
        if cache_headers
        else "no cache header (Age, X-Cache), so not an HTTP cache; one inside the app is not ruled out"
    )
    other = (
        f"ruled out if the app reads {url_source.removeprefix('the env file (').rstrip(')')} too"
        if url_source.startswith("the env file")
        else f"not ruled out: REDIS_URL came from {url_source}; compare the app's (backend/.env)"
    )
    return (
        f"the application reports redis: true but the verifier cannot reach {url} ({fault}); likely "
        f"causes: 1) a cached or stale health answer: {cached}; 2) a health check that does not "
        f"really PING Redis: not ruled out, make it PING; 3) a different Redis: {other}"
    )


def health_body_too_large(where: str, limit: int) -> Diagnosis:
    """The health answer went on past the reply cap: no health document is that big."""
    shown = f"{limit / (1 << 20):g} MiB" if limit >= 1 << 20 else f"{limit:,} bytes"
    return Diagnosis(Fault.REPLY_TOO_LARGE, f"GET reply from {where} exceeded {shown} (--max-reply-bytes)")
