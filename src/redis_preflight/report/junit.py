"""junit.xml from the checks' results: only blocking findings are <failure>, so test views stay green
on a passing gate; advisory, not-applicable and unverified checks are <skipped> with their type."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from redis_preflight.verdict.outcomes import CheckResult, Outcome
from redis_preflight.verdict.summary import Summary

PROPERTIES = ("target", "area", "severity", "outcome", "message")


def junit_xml(summary: Summary) -> str:
    checks = summary.checks
    suite = ET.Element(
        "testsuite",
        name="redis-preflight",
        tests=str(len(checks)),
        failures=str(sum(c.outcome == Outcome.FAILED for c in checks)),
        errors="0",
        skipped=str(sum(c.outcome not in (Outcome.PASSED, Outcome.FAILED) for c in checks)),
        timestamp=summary.started.isoformat(timespec="seconds"),
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in (("verdict", summary.verdict.value), ("target", summary.target)):
        ET.SubElement(properties, "property", name=name, value=value)
    for check in checks:
        suite.append(_testcase(check))
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _testcase(check: CheckResult) -> ET.Element:
    path, _, name = check.id.partition("::")
    case = ET.Element("testcase", classname=path.removesuffix(".py").replace("/", "."), name=name)
    properties = ET.SubElement(case, "properties")
    for field in PROPERTIES:
        ET.SubElement(properties, "property", name=field, value=str(getattr(check, field)))
    if check.outcome == Outcome.FAILED:
        failure = ET.SubElement(case, "failure", message=check.message, type=check.severity)
        failure.text = check.detail or check.message
    elif check.outcome != Outcome.PASSED:
        ET.SubElement(case, "skipped", type=check.outcome, message=check.message)
    return case
