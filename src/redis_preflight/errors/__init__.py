"""The one place that turns a low-level failure into a diagnosis a person can act on."""

from redis_preflight.errors.bounds import ReplyDeadline, ReplyTooLarge, RunDeadlinePassed
from redis_preflight.errors.faults import (
    AUTH_FAULTS,
    CERTIFICATE_FAULTS,
    TLS_FAULTS,
    Diagnosis,
    Fault,
    LegacyTls,
    PlaintextToTls,
    SanlessCertificate,
    TlsToPlaintext,
    UsernameWithoutAcl,
)
from redis_preflight.errors.health import (
    EXPECTED_DOCUMENT,
    classify_health,
    classify_health_body,
    classify_health_status,
    health_body_too_large,
    health_disagrees,
    health_downgrade,
    health_redirect_failure,
)
from redis_preflight.errors.replies import STOPPED_ANSWERING, classify, db_out_of_range, stopped_answering
from redis_preflight.errors.topology import sentinel_failure, too_many_nodes, unreachable_node

__all__ = [
    "AUTH_FAULTS",
    "CERTIFICATE_FAULTS",
    "EXPECTED_DOCUMENT",
    "STOPPED_ANSWERING",
    "TLS_FAULTS",
    "Diagnosis",
    "Fault",
    "LegacyTls",
    "PlaintextToTls",
    "ReplyDeadline",
    "ReplyTooLarge",
    "RunDeadlinePassed",
    "SanlessCertificate",
    "TlsToPlaintext",
    "UsernameWithoutAcl",
    "classify",
    "db_out_of_range",
    "classify_health",
    "classify_health_body",
    "classify_health_status",
    "health_body_too_large",
    "health_disagrees",
    "health_downgrade",
    "health_redirect_failure",
    "sentinel_failure",
    "stopped_answering",
    "too_many_nodes",
    "unreachable_node",
]
