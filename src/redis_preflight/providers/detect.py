"""Name the provider from the host name, else from what its INFO reveals."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from redis_preflight.providers import Hosting, Provider
from redis_preflight.providers.catalog import AIVEN, AZURE, ELASTICACHE, PROVIDERS, REDIS_CLOUD

# INFO fields only Azure's proxies add (documented in "Monitor Azure Cache for Redis").
AZURE_ONLY_FIELDS = ("bytes_received_per_sec", "bytes_sent_per_sec")
# ElastiCache hides its binary and config file behind "-".
ELASTICACHE_HIDDEN = ("executable", "config_file")


def by_host(host: str) -> Hosting | None:
    name = host.lower().rstrip(".")
    for provider in PROVIDERS:
        suffix = next((s for s in provider.hosts if name.endswith(s)), None)
        if suffix is not None:
            return Hosting(provider, f"host name *{suffix}")
    return None


def by_info(info: Mapping[str, Any]) -> Hosting | None:
    """What the service leaves in INFO: ElastiCache's os line, Azure's extra fields, ..."""
    os_line = str(info.get("os", ""))
    if "Amazon ElastiCache" in os_line:
        return Hosting(ELASTICACHE, f"INFO os:{os_line}")
    if all(str(info.get(name, "")) == "-" for name in ELASTICACHE_HIDDEN):
        return Hosting(ELASTICACHE, "INFO executable:- and config_file:-")
    azure = next((name for name in AZURE_ONLY_FIELDS if name in info), None)
    if azure is not None:
        return Hosting(AZURE, f"INFO {azure} (an Azure-only field)")
    if "rlec_version" in info or "Redis Enterprise" in os_line:
        return Hosting(REDIS_CLOUD, "INFO rlec_version" if "rlec_version" in info else f"INFO os:{os_line}")
    if "aiven" in os_line.lower():
        return Hosting(AIVEN, f"INFO os:{os_line}")
    return None


def detect(host: str, info: Mapping[str, Any] | None, named: str | None = None) -> Hosting:
    """--provider decides; then the host name; then INFO (a private DNS name or IP address)."""
    if named is not None:
        return Hosting(provider_named(named), "--provider")
    return by_host(host) or (by_info(info) if info else None) or Hosting(None, "no provider sign")


def provider_named(key: str) -> Provider | None:
    return next((p for p in PROVIDERS if p.key == key), None)
