"""Memory per pattern in report.html: a bar per pattern with its 95% interval, the largest keys.

HTML for pytest-html extras; every text goes through `escape` (key names above all).
"""

from __future__ import annotations

from html import escape

from redis_preflight.probes.keys.census import Census, MemoryEstimate, PatternCensus

BAR_SPACE, BLUE = 420, "#2e86c1"


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
    """Each pattern's estimated memory as a bar to the middle of its 95% interval, the interval
    drawn as a grey band around the bar's end: plain HTML boxes, no script, no SVG."""
    measured = _measured(census)
    if not measured:
        return "<p>Memory: no pattern measured (no keys, or MEMORY USAGE refused and no lengths).</p>"
    widest = max(m.total_ci[1] for _, m in measured if m.total_ci) or 1.0
    rows = "".join(_row(p, m, widest) for p, m in measured)
    title = "Estimated memory per pattern (bar: estimate; grey band: 95% interval)"
    return (
        f'<p style="font-weight:bold">{escape(title)}</p><table class="preflight-keys">{rows}</table>'
        + largest_table(census)
    )


def _row(pattern: PatternCensus, memory: MemoryEstimate, widest: float) -> str:
    low, high = memory.total_ci or (0.0, 0.0)
    scale = BAR_SPACE / widest
    middle = (low + high) / 2
    bar = (
        f'<div style="position:relative;width:{BAR_SPACE}px;height:14px">'
        f'<div style="position:absolute;left:0;top:2px;height:10px;width:{middle * scale:.0f}px;'
        f'background:{BLUE}"></div>'
        f'<div style="position:absolute;left:{low * scale:.0f}px;top:0;height:14px;'
        f'width:{max(1.0, (high - low) * scale):.0f}px;background:rgba(85,85,85,.35)"></div></div>'
    )
    return f"<tr><td>{escape(pattern.glob)}</td><td>{bar}</td><td>{escape(size(middle))}</td></tr>"


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
