"""Provider detection: the host name first, INFO fields otherwise, --provider above both."""

from __future__ import annotations

import pytest

from redis_preflight.providers.catalog import PROVIDERS
from redis_preflight.providers.detect import detect


@pytest.mark.parametrize(
    ("host", "key"),
    [
        ("my-cache.abc123.ng.0001.euw1.cache.amazonaws.com", "elasticache"),
        ("clustercfg.my-cache.abc123.euw1.cache.amazonaws.com", "elasticache"),
        ("my-serverless-abc123.serverless.euw1.cache.amazonaws.com", "elasticache"),
        ("contoso.redis.cache.windows.net", "azure"),
        ("contoso.westeurope.redis.azure.net", "azure"),
        ("redis-12345.c1.us-east-1-2.ec2.cloud.redislabs.com", "redis-cloud"),
        ("redis-12345.c1.us-east-1-2.ec2.redns.redis-cloud.com", "redis-cloud"),
        ("redis-12345.redislabs.com", "redis-cloud"),
        ("my-redis-project.aivencloud.com", "aiven"),
    ],
)
def test_provider_from_the_host_name(host, key):
    hosting = detect(host, None)
    assert hosting.provider is not None
    assert hosting.provider.key == key
    assert hosting.evidence.startswith("host name *.")


@pytest.mark.parametrize(
    ("info", "key", "evidence"),
    [
        ({"os": "Amazon ElastiCache", "redis_version": "7.1.0"}, "elasticache", "INFO os:Amazon ElastiCache"),
        ({"os": "Linux", "executable": "-", "config_file": "-"}, "elasticache", "INFO executable:- and"),
        ({"os": "Linux", "bytes_received_per_sec": 10}, "azure", "INFO bytes_received_per_sec"),
        ({"os": "Linux", "rlec_version": "7.4.2-54"}, "redis-cloud", "INFO rlec_version"),
    ],
)
def test_provider_from_info(info, key, evidence):
    hosting = detect("10.0.0.7", info)
    assert hosting.provider is not None
    assert hosting.provider.key == key
    assert hosting.evidence.startswith(evidence)


def test_nothing_known_is_self_hosted():
    hosting = detect("redis.internal", {"os": "Linux 6.1", "executable": "/usr/bin/redis-server"})
    assert hosting.provider is None
    assert str(hosting) == "self-hosted or unknown"


def test_the_option_decides():
    assert detect("my.cache.amazonaws.com", None, "memorystore").provider.key == "memorystore"
    assert detect("my.cache.amazonaws.com", None, "self-hosted").provider is None


def test_each_provider_has_its_page():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    for provider in PROVIDERS:
        page = root / provider.doc
        assert page.is_file(), page
        assert provider.name in page.read_text()
