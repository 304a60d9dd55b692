"""Managed Redis services: who runs the server, what they block, what they guarantee instead.

A provider is named from the host name first (it needs no traffic), then from INFO fields
the service leaves behind (ElastiCache's `os:Amazon ElastiCache`, Azure's
`bytes_received_per_sec`, ...). Advice is worded from the provider's own facts.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Provider:
    """One managed service, as its documentation describes it."""

    key: str  # summary.json and docs/providers/<key>.md
    name: str
    hosts: tuple[str, ...]  # host name suffixes
    # Commands the service documents as blocked or unsupported.
    blocked: frozenset[str]
    tls: str  # where and how TLS is switched on
    # What the service guarantees where a check cannot read the server's own setting.
    exposure: str
    persistence: str
    rights: str  # who may run what, where ACL DRYRUN is not allowed
    topology: str  # cluster mode, where CLUSTER is not allowed
    iam_login: str | None = None  # its --auth-token-provider, if it has IAM login

    @property
    def doc(self) -> str:
        return f"docs/providers/{self.key}.md"

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Hosting:
    """Who runs the target, and how the verifier knows."""

    provider: Provider | None
    evidence: str  # "host name *.cache.amazonaws.com", "INFO os:Amazon ElastiCache", ...

    @property
    def name(self) -> str | None:
        return self.provider.name if self.provider else None

    def __str__(self) -> str:
        return f"{self.provider} ({self.evidence})" if self.provider else "self-hosted or unknown"
