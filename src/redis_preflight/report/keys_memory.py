"""Memory per pattern in report.html: a bar per pattern with its 95% interval, the largest keys.

Inline SVG and HTML for pytest-html extras; every text goes through `escape` (key names above all).
"""

from __future__ import annotations

from html import escape

from redis_preflight.probes.keys.census import Census, MemoryEstimate, PatternCensus

ROW, LABEL_WIDTH, BAR_SPACE, BLUE, GREY = 22, 180, 420, "#2e86c1", "#555"


def size(n: float) -> str:
    """Bytes the way a person reads them: 512 B, 3.4 KiB, 1.2 GiB."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n:.0f} B"


def memory_words(estimate: MemoryEstimate) -> str:
    """Per key and for the whole pattern, with the 95% intervals, and how it was measured."""
    if estimate.per_key is None or estimate.per_key_ci is None or estimate.total_ci is None:
        return f"not measured ({estimate.method})"
    low, high = estimate.per_key_ci
    total_low, total_high = estimate.total_ci
    return (
        f"{size(estimate.per_key)} per key (95% CI {size(low)}-{size(high)}); "
        f"pattern {size(total_low)}-{size(total_high)}; {estimate.method}"
    )


def _measured(census: Census) -> list[tuple[PatternCensus, MemoryEstimate]]:
    return [(p, p.memory) for p in census.patterns if p.memory is not None and p.memory.total_ci is not None]


def memory_picture(census: Census) -> str:
    """Each pattern's estimated memory: a bar to the middle of its interval, whiskers to its ends."""
    measured = _measured(census)
    if not measured:
        return "<p>Memory: no pattern measured (no keys, or MEMORY USAGE refused and no lengths).</p>"
    widest = max(m.total_ci[1] for _, m in measured if m.total_ci) or 1.0
    rows = [_row(index, p, m, widest) for index, (p, m) in enumerate(measured)]
    height = ROW * len(measured) + 40
    width = LABEL_WIDTH + BAR_SPACE + 120
    title = "Estimated memory per pattern (bar: estimate, whiskers: 95% interval)"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'font-family="sans-serif" font-size="11"><title>{escape(title)}</title>'
        f'<text x="4" y="12" font-weight="bold">{escape(title)}</text>'
        + "".join(rows)
        + "</svg>"
        + largest_table(census)
    )


def _row(index: int, pattern: PatternCensus, memory: MemoryEstimate, widest: float) -> str:
    assert memory.total_ci is not None  # noqa: S101 - _measured keeps only these
    low, high = memory.total_ci
    y = 24 + index * ROW
    scale = BAR_SPACE / widest
    middle = (low + high) / 2
    x0, x1, xm = LABEL_WIDTH + low * scale, LABEL_WIDTH + high * scale, LABEL_WIDTH + middle * scale
    return (
        f'<text x="4" y="{y + 12}">{escape(pattern.glob[:28])}</text>'
        f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{xm - LABEL_WIDTH:.1f}" height="12" fill="{BLUE}"/>'
        f'<line x1="{x0:.1f}" y1="{y + 9}" x2="{x1:.1f}" y2="{y + 9}" stroke="{GREY}"/>'
        f'<line x1="{x0:.1f}" y1="{y + 4}" x2="{x0:.1f}" y2="{y + 14}" stroke="{GREY}"/>'
        f'<line x1="{x1:.1f}" y1="{y + 4}" x2="{x1:.1f}" y2="{y + 14}" stroke="{GREY}"/>'
        f'<text x="{x1 + 6:.1f}" y="{y + 12}">{escape(size(middle))}</text>'
    )


def largest_table(census: Census) -> str:
    """The memory words and the largest keys (masked) of each pattern."""
    rows = []
    for p in census.patterns:
        if p.memory is None:
            continue
        largest = "<br>".join(
            f"<code>{escape(key)}</code> {n:,} {escape(p.memory.unit)}" for key, n in p.memory.largest
        )
        rows.append(
            f"<tr><td>{escape(p.glob)}</td><td>{escape(memory_words(p.memory))}</td><td>{largest}</td></tr>"
        )
    head = "<tr><th>pattern</th><th>memory</th><th>largest keys examined</th></tr>"
    return f'<table class="preflight-keys">{head}{"".join(rows)}</table>'
