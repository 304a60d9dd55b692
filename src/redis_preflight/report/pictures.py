"""Self-contained HTML for report.html: an inline SVG histogram and plain tables, all escaped.

No scripts, no external assets: the report stays viewable offline and safe to open.
"""

from __future__ import annotations

import math
from html import escape

from redis_preflight.config.profiles import Budgets
from redis_preflight.probes.latency import LatencySample, SlowLog, ms

WIDTH, HEIGHT = 560, 210
LEFT, RIGHT, TOP, BOTTOM = 36, 14, 56, 34  # the marks' labels sit in four rows above the bars
BINS = 30
FLOOR_MS = 0.001  # a log scale has no zero; no round trip is faster than a microsecond
TICKS = (1, 2, 5)


def latency_histogram(sample: LatencySample, budgets: Budgets) -> str:
    """The PING round trips on a log scale, with p50, p99 and both budgets marked."""
    p50, p99 = sample.p50_ms, sample.p99_ms
    marks = [
        (p50, f"p50 {ms(p50)}", "#1f5fa8", ""),
        (p99, f"p99 {ms(p99)}", "#1f5fa8", "4 3"),
        (budgets.latency_p50_ms, f"p50 budget {budgets.latency_p50_ms:g}", "#b3261e", ""),
        (budgets.latency_p99_ms, f"p99 budget {budgets.latency_p99_ms:g}", "#b3261e", "4 3"),
    ]
    values = list(sample.samples_ms)
    everything = [*values, *(mark[0] for mark in marks)]
    scale = _LogScale(max(min(everything), FLOOR_MS) / 1.2, max(everything) * 1.2)
    caption = (
        f"Round-trip latency, {len(sample.samples_ms)} PINGs (ms, log scale): {sample.figures()}; "
        f"budget p50 < {budgets.latency_p50_ms:g} ms, p99 < {budgets.latency_p99_ms:g} ms"
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(caption)}" '
        'font-family="sans-serif" font-size="10">',
        f"<title>{escape(caption)}</title>",
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#fff"/>',
        *_bars(values, scale),
        *_axis(scale),
        *(_mark(scale, mark, row) for row, mark in enumerate(marks)),
        "</svg>",
    ]
    return f'<div class="preflight-latency"><p>{escape(caption)}</p>{"".join(parts)}</div>'


class _LogScale:
    """Milliseconds to x pixels, logarithmically: a 5 ms outlier must not hide 0.1 ms samples."""

    def __init__(self, low: float, high: float) -> None:
        self.low, self.high = math.log10(low), math.log10(high)

    def x(self, value: float) -> float:
        share = (math.log10(max(value, FLOOR_MS)) - self.low) / (self.high - self.low)
        return LEFT + share * (WIDTH - LEFT - RIGHT)

    def edges(self) -> list[float]:
        step = (self.high - self.low) / BINS
        return [10 ** (self.low + i * step) for i in range(BINS + 1)]


def _bars(values: list[float], scale: _LogScale) -> list[str]:
    edges = scale.edges()
    counts = [0] * BINS
    for value in values:
        index = next((i for i in range(BINS) if value < edges[i + 1]), BINS - 1)
        counts[index] += 1
    tallest, floor = max(counts), HEIGHT - BOTTOM
    bars = [f'<text x="{LEFT - 4}" y="{TOP + 4}" text-anchor="end">{tallest}</text>']
    for index, count in enumerate(counts):
        if count:
            left, right = scale.x(edges[index]), scale.x(edges[index + 1])
            height = count / tallest * (floor - TOP)
            bars.append(
                f'<rect x="{left:.1f}" y="{floor - height:.1f}" width="{max(right - left - 1, 1):.1f}" '
                f'height="{height:.1f}" fill="#7aa6d6"><title>{count} PINGs from {ms(edges[index])} '
                f"to {ms(edges[index + 1])} ms</title></rect>"
            )
    return bars


def _axis(scale: _LogScale) -> list[str]:
    floor = HEIGHT - BOTTOM
    lines = [f'<line x1="{LEFT}" y1="{floor}" x2="{WIDTH - RIGHT}" y2="{floor}" stroke="#333"/>']
    for decade in range(math.floor(scale.low), math.ceil(scale.high) + 1):
        for tick in TICKS:
            value = tick * 10.0**decade
            if scale.low <= math.log10(value) <= scale.high:
                x = scale.x(value)
                lines.append(
                    f'<line x1="{x:.1f}" y1="{floor}" x2="{x:.1f}" y2="{floor + 4}" stroke="#333"/>'
                    f'<text x="{x:.1f}" y="{floor + 15}" text-anchor="middle">{value:g}</text>'
                )
    lines.append(f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 4}" text-anchor="end">ms</text>')
    return lines


def _mark(scale: _LogScale, mark: tuple[float, str, str, str], row: int) -> str:
    value, label, colour, dash = mark
    x = scale.x(value)
    anchor = "end" if x > WIDTH / 2 else "start"
    nudge = -3 if anchor == "end" else 3
    return (
        f'<line x1="{x:.1f}" y1="{4 + row * 12}" x2="{x:.1f}" y2="{HEIGHT - BOTTOM}" stroke="{colour}" '
        f'stroke-dasharray="{dash}"/><text x="{x + nudge:.1f}" y="{13 + row * 12}" '
        f'text-anchor="{anchor}" fill="{colour}">{escape(label)}</text>'
    )


def slow_command_table(slowlog: SlowLog, threshold_ms: float) -> str:
    """SLOWLOG GET's entries, newest first; secrets were masked by the probe, text is escaped here."""
    rows = "".join(
        f"<tr><td>{entry.age_s(slowlog.read_at):.0f} s ago</td><td>{ms(entry.duration_ms)} ms</td>"
        f"<td>{escape(entry.command)}</td><td>{escape(' '.join(entry.arguments))}</td>"
        f"<td>{escape(entry.client)}</td></tr>"
        for entry in slowlog.entries
    )
    return (
        f"<p>SLOWLOG GET 10: {len(slowlog.entries)} entries, newest first "
        f"(threshold {threshold_ms:g} ms, recent = the last hour)</p>"
        "<table><tr><th>when</th><th>duration</th><th>command</th><th>arguments (masked, "
        f"truncated)</th><th>client</th></tr>{rows}</table>"
    )
