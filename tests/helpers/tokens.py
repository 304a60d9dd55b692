"""Offline stand-ins for the clouds: static test credentials, and the verification each
service would do, so a token proxy (provider_proxy) can accept AUTH only when the token holds."""

from __future__ import annotations

import base64
import datetime
import json
import threading
import time
from dataclasses import dataclass, field
from unittest import mock
from urllib.parse import parse_qsl, urlencode, urlsplit

import botocore.auth
import botocore.awsrequest
import botocore.credentials
from azure.core.credentials import AccessToken
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

_SIGNING = threading.Lock()
AWS_KEY_ID, AWS_SECRET = "AKIDPREFLIGHTTEST", "preflight/test/secret/key/not/real"
AWS_REGION, AWS_CACHE = "eu-west-1", "my-cache"


def aws_env() -> dict[str, str]:
    """Static credentials only: no profile file, no instance metadata."""
    return {
        "AWS_ACCESS_KEY_ID": AWS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": AWS_SECRET,
        "AWS_CONFIG_FILE": "/nonexistent",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def aws_token_valid(user: str | None, token: str) -> bool:
    """What ElastiCache checks: the SigV4 signature of GET https://CACHE/?Action=connect&User=USER,
    by the key, for the region, not expired, for the very user that AUTHs."""
    parts = urlsplit("https://" + token)
    query = dict(parse_qsl(parts.query))
    signature = query.pop("X-Amz-Signature", "")
    if parts.netloc != AWS_CACHE or query.get("Action") != "connect" or query.get("User") != user:
        return False
    if not query.get("X-Amz-Credential", "").startswith(f"{AWS_KEY_ID}/"):
        return False
    stamp = datetime.datetime.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
    expires = int(query["X-Amz-Expires"])
    if stamp.replace(tzinfo=datetime.UTC).timestamp() + expires < time.time():
        return False
    base = {k: v for k, v in query.items() if not k.startswith("X-Amz-")}
    request = botocore.awsrequest.AWSRequest(method="GET", url=f"https://{parts.netloc}/?{urlencode(base)}")
    credentials = botocore.credentials.Credentials(AWS_KEY_ID, AWS_SECRET)
    signer = botocore.auth.SigV4QueryAuth(credentials, "elasticache", AWS_REGION, expires=expires)
    # Signed again at the token's own time: the same signature, or a forgery. One at a time: the
    # proxy verifies connections in parallel threads, and patching a module is not thread-safe.
    with _SIGNING, mock.patch.object(botocore.auth, "get_current_datetime", return_value=stamp):
        signer.add_auth(request)
    return dict(parse_qsl(urlsplit(request.url).query)).get("X-Amz-Signature") == signature


def service_account_key() -> tuple[dict[str, str], bytes]:
    """A Google service-account key generated here (never seen by Google), and its public key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    info = {
        "type": "service_account",
        "project_id": "preflight-test",
        "private_key_id": "0123456789abcdef",
        "private_key": private,
        "client_email": "preflight@preflight-test.iam.gserviceaccount.com",
        "client_id": "1234567890",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    return info, public


@dataclass
class EntraCredential:
    """A TokenCredential as azure-identity's are: get_token(scope) -> AccessToken, here short-lived."""

    object_id: str = "5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b"
    lifetime_s: float = 3600
    issued: list[str] = field(default_factory=list)
    scopes: list[str] = field(default_factory=list)

    def get_token(self, *scopes: str, **_: object) -> AccessToken:
        self.scopes += scopes
        claims = {"oid": self.object_id, "n": len(self.issued), "exp": int(time.time() + self.lifetime_s)}
        payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
        token = f"eyJhbGciOiJub25lIn0.{payload}.entra-test-signature-{len(self.issued)}"
        self.issued.append(token)
        return AccessToken(token, int(time.time() + self.lifetime_s))
