"""report.html: the verdict, one status per area, the findings with their evidence, then every check.

One self-contained page: no script or style is fetched, and every text that reaches it is escaped
here (evidence fragments are escaped where they were built).
"""

from __future__ import annotations

from collections import Counter
from html import escape

from redis_preflight.providers.detect import provider_named
from redis_preflight.report.capabilities import capabilities_html
from redis_preflight.verdict.outcomes import AREAS, CheckResult, Outcome
from redis_preflight.verdict.summary import Summary, Verdict

LABELS = {
    Outcome.PASSED: "Passed",
    Outcome.FAILED: "Failed",
    Outcome.ADVISORY: "Advisory",
    Outcome.NOT_APPLICABLE: "Not applicable",
    Outcome.UNVERIFIED: "Unverified",
}
STYLE = """<style>
body{font-family:Helvetica,Arial,sans-serif;font-size:14px;margin:16px 24px;color:#222}
h1{font-size:20px}h2{font-size:17px;margin-top:22px}
.preflight-banner{border-radius:6px;padding:12px 16px;margin:8px 0 16px;color:#fff;font-size:15px}
.preflight-banner h2{margin:0 0 6px;font-size:22px;color:#fff}
.pass{background:#1e7b34}.fail{background:#b3261e}.incomplete{background:#8a5a00}
.interrupted,.error{background:#555}
table{border-collapse:collapse;margin:6px 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;
vertical-align:top}
.o-passed{color:#1e7b34}.o-failed{color:#b3261e;font-weight:bold}.o-advisory{color:#9a6700}
.o-unverified{color:#8a5a00;font-weight:bold}.o-not_applicable{color:#666}
.findings li{margin:6px 0}details{margin:4px 0}pre{white-space:pre-wrap;font-size:12px}
#checks tr.hidden{display:none}.filters label{margin-right:14px}
</style>"""
FILTER_SCRIPT = """<script>
for (const box of document.querySelectorAll('.filters input')) {
  box.addEventListener('change', () => {
    for (const row of document.querySelectorAll('#checks tr[data-outcome="' + box.value + '"]'))
      row.classList.toggle('hidden', !box.checked);
  });
}
</script>"""


def report_html(summary: Summary, environment: list[str]) -> str:
    checks = summary.checks
    parts = [
        '<!DOCTYPE html><html><head><meta charset="utf-8">',
        f"<title>redis-preflight report: {escape(summary.target)}</title>{STYLE}</head><body>",
        f"<h1>redis-preflight report: {escape(summary.target)}</h1>",
        banner(summary),
        _targets(summary),
        _areas(checks),
        _findings(summary, checks),
        capabilities_html(summary),
        _all_checks(checks),
        "<h2>Environment</h2><ul>" + "".join(f"<li>{escape(line)}</li>" for line in environment) + "</ul>",
        FILTER_SCRIPT,
        "</body></html>",
    ]
    return "\n".join(part for part in parts if part)


def verdict_words(summary: Summary) -> str:
    """The verdict as a person reads it: 'PASS', 'PASS for keys only', 'INCOMPLETE (accepted)'."""
    verdict = summary.verdict
    words = verdict.value.upper() + summary.scope_words()
    if verdict is Verdict.INCOMPLETE and summary.accept_incomplete:
        words += " (accepted by --accept-incomplete)"
    return words


def banner(summary: Summary) -> str:
    document = summary.as_dict()
    strict = " &middot; strict" if summary.strict else ""
    why = ""
    if summary.ended_early or summary.broken:
        why = f"<br>{escape(str(summary.broken or summary.ended_early))}"
    return (
        f'<div class="preflight-banner {escape(summary.verdict.value)}" id="preflight-verdict">'
        f"<h2>redis-preflight: {escape(verdict_words(summary))}</h2>"
        f"target <b>{escape(summary.target)}</b>{_provider(summary)} &middot; "
        f"profile <b>{escape(summary.profile)}</b>"
        f" &middot; run time {document['duration_s']:.2f} s{strict}{why}</div>"
    )


def _provider(summary: Summary) -> str:
    provider = provider_named(summary.provider) if summary.provider else None
    return f" on <b>{escape(provider.name)}</b>" if provider else ""


def _targets(summary: Summary) -> str:
    if len(summary.targets) < 2:
        return ""
    items = "".join(
        f'<li><span class="o-{"failed" if verdict == "fail" else "passed"}">{escape(verdict.upper())}</span> '
        f"{escape(target)}</li>"
        for target, verdict in summary.verdicts().items()
    )
    return f'<ul class="preflight-targets">{items}</ul>'


def area_status(checks: list[CheckResult]) -> dict[str, str]:
    """One status per area: its worst outcome (a blocking unverified check outranks an advisory)."""
    rank = [Outcome.FAILED, "unverified_blocking", Outcome.ADVISORY, Outcome.UNVERIFIED, Outcome.PASSED]
    status: dict[str, str] = {}
    for area in AREAS:
        outcomes = {
            "unverified_blocking" if c.outcome == Outcome.UNVERIFIED and c.blocking else c.outcome
            for c in checks
            if c.area == area
        }
        if not outcomes:
            continue
        worst = next((o for o in rank if o in outcomes), Outcome.NOT_APPLICABLE)
        status[area] = Outcome.UNVERIFIED if worst == "unverified_blocking" else str(worst)
    return status


def _areas(checks: list[CheckResult]) -> str:
    counts = Counter((c.area, c.outcome) for c in checks)
    head = "".join(f"<th>{escape(LABELS[o])}</th>" for o in Outcome)
    rows = "".join(
        f'<tr><td>{escape(area)}</td><td class="o-{escape(status)}">{escape(LABELS[Outcome(status)])}</td>'
        + "".join(f"<td>{counts[(area, o)] or ''}</td>" for o in Outcome)
        + "</tr>"
        for area, status in area_status(checks).items()
    )
    return (
        '<h2>Areas</h2><table class="preflight-areas">'
        f"<tr><th>area</th><th>status</th>{head}</tr>{rows}</table>"
    )


def _findings(summary: Summary, checks: list[CheckResult]) -> str:
    blocking = [c for c in checks if c.outcome == Outcome.FAILED]
    unverified = summary.unverified(checks)
    advisory = [c for c in checks if c.outcome == Outcome.ADVISORY]
    if not (blocking or unverified or advisory):
        return "<h2>Findings</h2><p>No findings: every check that applies passed.</p>"
    sections = [
        ("Blocking findings", blocking),
        ("Not verified (blocking checks that could not run)", unverified),
        ("Advisory findings", advisory),
    ]
    return "".join(
        f'<h2>{escape(title)}</h2><ol class="findings">{"".join(_finding(c) for c in items)}</ol>'
        for title, items in sections
        if items
    )


def _finding(check: CheckResult) -> str:
    evidence = "".join(_evidence(check.id, fragment) for fragment in check.evidence)
    detail = (
        f"<details><summary>traceback</summary><pre>{escape(check.detail)}</pre></details>"
        if check.detail
        else ""
    )
    return (
        f'<li><span class="o-{escape(check.outcome)}">[{escape(check.severity)}]</span> '
        f"{escape(check.area)}: {escape(check.message)} <small>({escape(check.id)})</small>"
        f"{evidence}{detail}</li>"
    )


def _all_checks(checks: list[CheckResult]) -> str:
    present = Counter(c.outcome for c in checks)
    boxes = "".join(
        f'<label><input type="checkbox" value="{o.value}" checked> {present[o]} {escape(LABELS[o])}</label>'
        for o in Outcome
    )
    rows = [_row(c) for c in checks if c.outcome != Outcome.NOT_APPLICABLE]
    by_area = Counter(c.area for c in checks if c.outcome == Outcome.NOT_APPLICABLE)
    reasons: dict[str, str] = {}
    for c in checks:
        if c.outcome == Outcome.NOT_APPLICABLE:
            reasons.setdefault(c.area, c.message)
    rows += [
        f'<tr data-outcome="not_applicable"><td class="o-not_applicable">Not applicable</td>'
        f"<td>{escape(area)}</td><td></td><td>{n} check(s)</td><td>{escape(reasons[area])}</td><td></td></tr>"
        for area, n in by_area.items()
    ]
    return (
        f'<h2>Checks</h2><div class="filters">{boxes}</div>'
        '<table id="checks"><tr><th>Result</th><th>Area</th>'
        f"<th>Severity</th><th>Check</th><th>Message</th><th>Target</th></tr>{''.join(rows)}</table>"
    )


def _row(check: CheckResult) -> str:
    """A finding's evidence is shown once, under Findings; a passing check's behind a toggle here."""
    evidence = ""
    if check.evidence and check.outcome not in (Outcome.FAILED, Outcome.ADVISORY):
        shown = "".join(_evidence(check.id, fragment) for fragment in check.evidence)
        evidence = f"<details><summary>evidence</summary>{shown}</details>"
    return (
        f'<tr data-outcome="{escape(check.outcome)}"><td class="o-{escape(check.outcome)}">'
        f"{escape(LABELS[Outcome(check.outcome)])}</td><td>{escape(check.area)}</td>"
        f"<td>{escape(check.severity)}</td><td>{escape(check.id)}</td><td>{escape(check.message)}{evidence}</td>"
        f'<td class="col-target">{escape(check.target)}</td></tr>'
    )


def _evidence(check_id: str, fragment: str) -> str:
    # Comments mark each fragment for tools and tests; escaped text cannot close them (">" is &gt;).
    return f'<!-- evidence {escape(check_id)} --><div class="evidence">{fragment}</div><!-- /evidence -->'
