"""The managed services' documented facts (see docs/providers/ for the sources)."""

from __future__ import annotations

from redis_preflight.providers import Provider

ELASTICACHE = Provider(
    key="elasticache",
    name="AWS ElastiCache",
    hosts=(".cache.amazonaws.com", ".cache.amazonaws.com.cn"),
    blocked=frozenset(
        "BGREWRITEAOF BGSAVE CONFIG DEBUG MIGRATE REPLICAOF SAVE SLAVEOF SHUTDOWN SYNC".split()
    ),
    tls="in-transit encryption is chosen when the cache is created (Serverless: always on); use rediss://",
    exposure="ElastiCache is reachable only inside its VPC, through its security groups",
    persistence="ElastiCache persistence is set in the console (automatic backups, Multi-AZ, AOF on 6.x+)",
    rights="user rights are ElastiCache user groups (console or modify-user)",
    topology="cluster mode is chosen when the cache is created (Serverless: always cluster mode)",
    iam_login="aws",
)
MEMORYSTORE = Provider(
    key="memorystore",
    name="GCP Memorystore",
    hosts=(),  # reached by private IP: named by --provider
    blocked=frozenset(
        "ACL CLIENT CLUSTER COMMAND CONFIG DEBUG LASTSAVE MIGRATE MONITOR OBJECT SHUTDOWN REPLICAOF "
        "SAVE BGSAVE BGREWRITEAOF".split()
    ),
    tls="in-transit encryption (TLS 1.2+, port 6378) is chosen at creation; the certificate rotates "
    "every 180 days and the CA after 5 years: give --tls-ca-file the instance's CA bundle",
    exposure="Memorystore has only a private IP, reachable from its authorized VPC network",
    persistence="Memorystore persistence (RDB snapshots or AOF) is set on the instance, not by CONFIG",
    rights="Memorystore has one user (default, AUTH string or IAM): it may run every allowed command",
    topology="Memorystore for Redis is standalone; Memorystore for Redis Cluster is always cluster mode",
    iam_login="gcp",
)
AZURE = Provider(
    key="azure",
    name="Azure Cache for Redis",
    hosts=(".redis.cache.windows.net", ".redis.azure.net", ".redisenterprise.cache.azure.net"),
    blocked=frozenset("BGREWRITEAOF BGSAVE CONFIG DEBUG MIGRATE SAVE SHUTDOWN SLAVEOF REPLICAOF".split()),
    tls="the non-TLS port 6379 is off by default: use rediss:// on 6380 (Azure Managed Redis: 10000)",
    exposure="Azure Cache for Redis is exposed as its firewall rules and private endpoints allow",
    persistence="Azure persistence (RDB or AOF, Premium tier and up) is set in the portal",
    rights="data access policies in the portal set each user's rights",
    topology="clustering is set in the portal (Premium tier and up, Azure Managed Redis)",
    iam_login="azure",
)
REDIS_CLOUD = Provider(
    key="redis-cloud",
    name="Redis Cloud / Redis Software",
    hosts=(".redislabs.com", ".redis-cloud.com", ".cloud.redislabs.com", ".rlrcp.com"),
    blocked=frozenset("CONFIG DEBUG MIGRATE MONITOR SAVE BGSAVE BGREWRITEAOF SHUTDOWN REPLICAOF".split()),
    tls="TLS is switched on per database in the console; use rediss:// with the database's CA",
    exposure="Redis Cloud databases are exposed as their CIDR allow list and VPC peering allow",
    persistence="Redis Cloud data persistence (AOF or snapshot) is set per database in the console",
    rights="role-based access control in the console sets each user's rights (ACL DRYRUN may "
    "answer 'unknown user' for LDAP users)",
    topology="Redis Cloud shards behind one endpoint: clients see a single server",
)
AIVEN = Provider(
    key="aiven",
    name="Aiven for Redis / Valkey",
    hosts=(".aivencloud.com",),
    blocked=frozenset(
        "ACL CLUSTER COMMAND CONFIG DEBUG FAILOVER LASTSAVE MIGRATE MONITOR ROLE REPLICAOF SAVE "
        "SHUTDOWN".split()
    ),
    tls="Aiven services take TLS only: use rediss:// with the project's CA certificate",
    exposure="Aiven services are exposed as their IP filter allows",
    persistence="Aiven persistence (RDB backups) is set on the service (redis_persistence)",
    rights="users and their rights are set in the Aiven console (the ACL command is disabled)",
    topology="Aiven for Redis is a primary with standbys, not Redis Cluster",
)
PROVIDERS = (ELASTICACHE, MEMORYSTORE, AZURE, REDIS_CLOUD, AIVEN)
