"""The key census in report.html: a table per run, violations and a TTL picture per pattern.

Self-contained HTML and inline SVG for pytest-html extras, which insert it as markup: every
text that reaches it (key names above all) goes through `escape` first.
"""

from __future__ import annotations

from html import escape

from redis_preflight.probes.keys.census import Census, PatternCensus, Rule, duration
from redis_preflight.probes.keys.tally import BUCKETS
from redis_preflight.report.keys_findings import rate, ttl_spread

BAR_WIDTH, GAP, CHART_HEIGHT, LABELS_HEIGHT = 58, 6, 110, 34
BLUE, RED, ORANGE = "#2e86c1", "#c0392b", "#e67e22"
STYLE = (
    "<style>table.preflight-keys{border-collapse:collapse;font-size:12px;margin:6px 0}"
    ".preflight-keys th,.preflight-keys td{border:1px solid #ccc;padding:2px 6px;text-align:left;"
    "vertical-align:top}</style>"
)


def _table(headers: list[str], rows: list[list[str]]) -> str:
    """`rows` hold HTML already escaped; headers are plain text."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f'{STYLE}<table class="preflight-keys"><tr>{head}</tr>{body}</table>'


def _count(pattern: PatternCensus) -> str:
    return f"{pattern.count:,}" if pattern.counted else f"~{pattern.count:,} (estimated)"


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "-"


def _broken_share(pattern: PatternCensus) -> str:
    """Per rule, the share of examined keys that break it; sampled, with its 95% interval."""
    said = []
    for rule in Rule:
        failures = pattern.failures(rule)
        if failures:
            said.append(f"{rule}: {rate(pattern, failures)}")
    return "; ".join(said) or "none"


def census_table(census: Census) -> str:
    """One row per pattern: count, TTL share and spread, types, memory, violations by kind."""
    rows = []
    for p in census.patterns:
        memory = (
            f"{p.memory_per_key:,.0f} B ({escape(p.memory_note)})"
            if p.memory_per_key
            else escape(p.memory_note)
        )
        rows.append(
            [
                escape(p.glob),
                _count(p),
                f"{p.examined:,}",
                _share(p.with_ttl, p.examined),
                escape(ttl_spread(p)),
                escape(", ".join(f"{name} {n:,}" for name, n in p.types)),
                memory,
                escape(", ".join(f"{v.label} {v.count:,}" for v in p.violations) or "none"),
                escape(_broken_share(p)),
            ]
        )
    headers = ["pattern", "keys", "examined", "with TTL", "TTL", "types", "memory per key", "violations"]
    headers.append("keys breaking a rule")
    unmatched = ", ".join(f"{escape(prefix)} {count:,}" for prefix, count in census.unmatched) or "none"
    scope = "the whole keyspace" if census.complete else f"{census.scanned:,} of {census.dbsize:,} keys"
    return (
        f"<p>Key census of {escape(scope)} (DBSIZE {census.dbsize:,}) in {census.elapsed_s:.2f} s; "
        f"{escape(census.bounds.describe())}.</p>"
        + _table(headers, rows)
        + f"<p>Keys matching no pattern: {unmatched}</p>"
    )


def violations_table(pattern: PatternCensus) -> str:
    """Each violation kind with its count and up to five example keys (masked) and reasons."""
    if not pattern.violations:
        return f"<p>{escape(pattern.glob)}: no violations among {pattern.examined:,} keys examined.</p>"
    rows = [
        [
            escape(v.label),
            escape(str(v.rule)),
            f"{v.count:,}",
            "<br>".join(f"<code>{escape(e.key)}</code>: {escape(e.reason)}" for e in v.examples),
        ]
        for v in pattern.violations
    ]
    return _table(["violation", "rule", "keys", "examples"], rows)


def ttl_picture(pattern: PatternCensus) -> str:
    """A bar chart of the TTLs of the examined keys, as inline SVG; red where the contract breaks."""
    buckets = pattern.ttl_buckets
    tallest = max((n for _, n in buckets), default=0) or 1
    width = len(buckets) * (BAR_WIDTH + GAP) + GAP
    height = CHART_HEIGHT + LABELS_HEIGHT + 20
    bars = [
        _bar(index, label, count, tallest, _colour(pattern, index))
        for index, (label, count) in enumerate(buckets)
    ]
    legend = ["red: no TTL" if pattern.policy.required else "orange: no TTL (advisory)"]
    if pattern.policy.max_ttl is not None:
        legend.append(f"red: above the maximum of {duration(pattern.policy.max_ttl.total_seconds())}")
    title = f"TTL of the {pattern.examined:,} examined {pattern.glob} keys"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 16}" '
        f'role="img" font-family="sans-serif" font-size="11"><title>{escape(title)}</title>'
        f'<text x="{GAP}" y="12" font-weight="bold">{escape(title)}</text>'
        + "".join(bars)
        + f'<text x="{GAP}" y="{height + 10}" fill="#555">{escape("; ".join(legend))}</text></svg>'
    )


def _colour(pattern: PatternCensus, index: int) -> str:
    if index == 0:
        return RED if pattern.policy.required else ORANGE
    limit = pattern.policy.max_ttl
    lower_edge_s = BUCKETS[index - 2][0] if index >= 2 else 0
    return RED if limit is not None and lower_edge_s >= limit.total_seconds() else BLUE


def _bar(index: int, label: str, count: int, tallest: int, colour: str) -> str:
    x = GAP + index * (BAR_WIDTH + GAP)
    bar = round(CHART_HEIGHT * count / tallest)
    top = 20 + CHART_HEIGHT - bar
    centre = x + BAR_WIDTH / 2
    return (
        f'<rect x="{x}" y="{top}" width="{BAR_WIDTH}" height="{bar}" fill="{colour}"/>'
        f'<text x="{centre}" y="{top - 3}" text-anchor="middle">{count:,}</text>'
        f'<text x="{centre}" y="{20 + CHART_HEIGHT + 14}" text-anchor="middle">{escape(label)}</text>'
    )
