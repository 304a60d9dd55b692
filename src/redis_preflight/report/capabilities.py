"""The one table of what each server lets the verifier do: checks that could not run point here."""

from __future__ import annotations

from html import escape

from redis_preflight.verdict.summary import Summary

TITLE = "Commands the checks need"
ANCHOR = "preflight-capabilities"
STYLE = {"available": "#1e7b34", "blocked": "#8a5a00", "forbidden": "#b3261e", "error": "#b3261e"}


def capabilities_html(summary: Summary) -> str:
    """One row per command and target: available, blocked or forbidden, and what stands in."""
    if not summary.capabilities:
        return ""
    fleet = len(summary.capabilities) > 1
    rows = "".join(
        "<tr>"
        + (f"<td>{escape(target)}</td>" if fleet else "")
        + f"<td><code>{escape(row['command'])}</code></td>"
        f'<td style="color:{STYLE.get(row["status"], "#000")}"><b>{escape(row["status"])}</b></td>'
        f"<td>{escape(row['used_for'])}</td>"
        f"<td>{escape(row['fallback'] or row['why'])}</td></tr>"
        for target, table in summary.capabilities.items()
        for row in table
    )
    head = ("<th>target</th>" if fleet else "") + "<th>command</th><th>status</th><th>needed for</th>"
    return (
        f'<h2 id="{ANCHOR}">{TITLE}</h2>'
        "<p>Learned once per run. <i>blocked</i>: unknown to the server (renamed, disabled by the "
        "provider, or too new); <i>forbidden</i>: the user's ACL refuses it (NOPERM).</p>"
        f'<table class="preflight-areas"><tr>{head}<th>instead / why</th></tr>{rows}</table>'
    )
