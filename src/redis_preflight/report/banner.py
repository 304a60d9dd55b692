"""The verdict banner at the top of report.html: pass or fail, where, and what to fix first."""

from __future__ import annotations

from collections import Counter
from html import escape

from redis_preflight.config.profiles import Severity
from redis_preflight.verdict.outcomes import AREAS
from redis_preflight.verdict.summary import CheckResult, Summary

STYLE = """
<style>
body{display:flex;flex-direction:column}
#title{order:-2}.summary{order:-1}#environment-header,#environment{order:1}
.preflight-banner{border-radius:6px;padding:12px 16px;margin:8px 0 16px;color:#fff;font-size:15px}
.preflight-banner.pass{background:#1e7b34}.preflight-banner.fail{background:#b3261e}
.preflight-banner h2{margin:0 0 6px;font-size:22px;color:#fff}
.preflight-counts{border-collapse:collapse;margin:8px 0}
.preflight-counts td,.preflight-counts th{border:1px solid #ccc;padding:2px 8px;text-align:left}
.preflight-findings li{margin:3px 0}.preflight-findings .blocking{color:#b3261e;font-weight:bold}
</style>
"""


def banner_html(summary: Summary) -> list[str]:
    """HTML fragments for pytest-html's summary prefix; every value escaped."""
    document = summary.as_dict()
    verdict = str(document["verdict"])
    findings = sorted(summary.findings(), key=_severity_first)
    head = (
        f'<div class="preflight-banner {escape(verdict)}" id="preflight-verdict">'
        f"<h2>redis-preflight: {escape(verdict.upper())}</h2>"
        f"target <b>{escape(summary.target)}</b> &middot; profile <b>{escape(summary.profile)}</b>"
        f" &middot; run time {document['duration_s']:.2f} s"
        f"{' &middot; strict' if summary.strict else ''}</div>"
    )
    return [STYLE, head, _targets_list(summary), _counts_table(findings), _findings_list(findings)]


def _targets_list(summary: Summary) -> str:
    """A fleet's verdict per target; nothing for a single target (the head says it)."""
    if len(summary.targets) < 2:
        return ""
    items = "".join(
        f'<li><span class="{"blocking" if verdict == "fail" else ""}">{escape(verdict.upper())}</span> '
        f"{escape(target)}</li>"
        for target, verdict in summary.verdicts().items()
    )
    return f'<ul class="preflight-targets">{items}</ul>'


def _severity_first(check: CheckResult) -> tuple[int, int, str]:
    area = AREAS.index(check.area) if check.area in AREAS else len(AREAS)
    return (0 if check.severity == Severity.BLOCKING else 1, area, check.id)


def _counts_table(findings: list[CheckResult]) -> str:
    counts = Counter((check.area, check.severity) for check in findings)
    rows = "".join(
        f"<tr><td>{escape(area)}</td><td>{counts[(area, 'blocking')]}</td>"
        f"<td>{counts[(area, 'advisory')]}</td></tr>"
        for area in AREAS
        if counts[(area, "blocking")] or counts[(area, "advisory")]
    )
    if not rows:
        return "<p>No findings: every check that ran passed.</p>"
    return (
        '<table class="preflight-counts"><tr><th>area</th><th>blocking</th><th>advisory</th></tr>'
        f"{rows}</table>"
    )


def _findings_list(findings: list[CheckResult]) -> str:
    items = "".join(
        f'<li><span class="{escape(check.severity)}">[{escape(check.severity)}]</span> '
        f"{escape(check.area)}: {escape(check.message)} <small>({escape(check.id)})</small></li>"
        for check in findings
    )
    return f'<ol class="preflight-findings">{items}</ol>' if items else ""
