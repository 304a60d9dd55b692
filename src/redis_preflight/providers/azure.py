"""Azure Cache for Redis with Microsoft Entra ID: an access token (about an hour) as the
password, the principal's object id as the username."""

from __future__ import annotations

import base64
import json
from typing import Any

from azure.core.credentials import TokenCredential
from azure.identity import DefaultAzureCredential

from redis_preflight.providers.tokens import Token, TokenError, TokenSource

SCOPE = "https://redis.azure.com/.default"
CONNECTION_LIMIT = (
    "Azure closes a connection whose token expires unless the client sends AUTH with a fresh one "
    "first: the application must re-authenticate its open connections (redis-entraid does)"
)


def source(*, username: str | None, credential: TokenCredential | None = None, **_: Any) -> TokenSource:
    """DefaultAzureCredential unless given (tests give their own TokenCredential)."""
    chosen = credential or DefaultAzureCredential()

    def fetch() -> Token:
        access = chosen.get_token(SCOPE)
        return Token(access.token, float(access.expires_on), username or object_id(access.token))

    return TokenSource("Azure Entra ID", fetch, connection_limit=CONNECTION_LIMIT)


def object_id(token: str) -> str:
    """The token's oid claim (the principal's object id), read without verifying: the server verifies."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return str(claims["oid"])
    except (IndexError, ValueError, KeyError):
        raise TokenError(
            "the Entra token carries no oid claim: give the object id as the URL's user "
            "(rediss://OBJECT_ID@HOST:6380)"
        ) from None
