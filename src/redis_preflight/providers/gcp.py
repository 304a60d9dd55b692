"""GCP Memorystore IAM authentication: an OAuth access token (about an hour) as the password of
the default user."""

from __future__ import annotations

import calendar
import time
from typing import Any

import google.auth
import google.auth.transport.requests
from google.auth.credentials import Credentials

from redis_preflight.providers.tokens import Token, TokenError, TokenSource

SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]
DEFAULT_LIFETIME_S = 3600
CONNECTION_LIMIT = (
    "Memorystore checks the token at AUTH only: open connections outlive it, new ones need a fresh one"
)


def source(*, username: str | None, credentials: Credentials | None = None, **_: Any) -> TokenSource:
    """Application Default Credentials unless given (tests give their own)."""
    if credentials is None:
        try:
            credentials, _project = google.auth.default(scopes=SCOPES)
        except google.auth.exceptions.DefaultCredentialsError as e:
            raise TokenError(f"--auth-token-provider gcp: no Google credentials ({e})") from None
    given: Any = credentials

    def fetch() -> Token:
        given.refresh(google.auth.transport.requests.Request())
        expiry = given.expiry
        expires_at = calendar.timegm(expiry.timetuple()) if expiry else time.time() + DEFAULT_LIFETIME_S
        return Token(str(given.token), float(expires_at), username if username != "default" else None)

    return TokenSource("GCP Memorystore IAM", fetch, connection_limit=CONNECTION_LIMIT)
