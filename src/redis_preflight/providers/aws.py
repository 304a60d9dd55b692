"""AWS ElastiCache IAM authentication: a SigV4-presigned "connect" request is the password.

The token is valid 15 minutes for opening connections; ElastiCache drops an IAM-authenticated
connection after 12 hours unless it re-authenticates. The username is the ElastiCache user id.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode, urlunsplit

import botocore.session
from botocore.model import ServiceId
from botocore.signers import RequestSigner

from redis_preflight.providers.tokens import Token, TokenError, TokenSource

TOKEN_LIFETIME_S = 900
CONNECTION_LIMIT = (
    "ElastiCache drops an IAM-authenticated connection after 12 hours unless it sends AUTH with a "
    "fresh token: the application's pool must re-authenticate or reconnect before then"
)


def source(
    *, username: str | None, region: str | None, cache_name: str | None, serverless: bool = False, **_: Any
) -> TokenSource:
    if not (username and region and cache_name):
        raise TokenError(
            "--auth-token-provider aws needs the ElastiCache user id as the URL's user "
            "(rediss://USER_ID@HOST:6379), --aws-region and --aws-cache-name"
        )
    session = botocore.session.get_session()

    def fetch() -> Token:
        credentials = session.get_credentials()
        if credentials is None:
            raise TokenError(
                "--auth-token-provider aws: no AWS credentials (environment, ~/.aws, instance role)"
            )
        signer = RequestSigner(
            ServiceId("elasticache"),
            region,
            "elasticache",
            "v4",
            credentials,
            session.get_component("event_emitter"),
        )
        query = {
            "Action": "connect",
            "User": username,
            **({"ResourceType": "ServerlessCache"} if serverless else {}),
        }
        request = {
            "method": "GET",
            "url": urlunsplit(("https", cache_name, "/", urlencode(query), "")),
            "body": {},
            "headers": {},
            "context": {},
        }
        started = time.time()
        signed = signer.generate_presigned_url(
            request, operation_name="connect", expires_in=TOKEN_LIFETIME_S, region_name=region
        )
        return Token(signed.removeprefix("https://"), started + TOKEN_LIFETIME_S, username)

    return TokenSource("AWS ElastiCache IAM", fetch, connection_limit=CONNECTION_LIMIT)
