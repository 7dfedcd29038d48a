"""Server-rendered SVG charts for the admin dashboard (no JavaScript, no CDN)."""

from __future__ import annotations

from datetime import date

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 640, 200
LEFT, BOTTOM, TOP = 36, 24, 10
COLORS = {
    "succeeded": "#2da44e",
    "sent": "#2da44e",
    "failed": "#cf222e",
    "retrying": "#bf8700",
    "running": "#0969da",
    "queued": "#8c959f",
    "cancelled": "#57606a",
}


def stacked_bars(title: str, dates: list[date], series: dict[str, list[int]]) -> SafeString:
    """One bar per day, stacked by series; a legend; the day's total in each bar's title."""
    days = len(dates)
    totals = [sum(values[i] for values in series.values()) for i in range(days)]
    peak = max([*totals, 1])
    plot_w, plot_h = WIDTH - LEFT - 8, HEIGHT - BOTTOM - TOP
    slot = plot_w / max(days, 1)
    bar = slot * 0.7
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT + 22}" '
        f'role="img" aria-label="{escape(title)}" class="tp-chart">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - 8}" y2="{TOP + plot_h}" '
        'stroke="#d0d7de"/>',
        f'<text x="{LEFT - 4}" y="{TOP + 8}" text-anchor="end" font-size="10">{peak}</text>',
        f'<text x="{LEFT - 4}" y="{TOP + plot_h}" text-anchor="end" font-size="10">0</text>',
    ]
    for i, day in enumerate(dates):
        x = LEFT + i * slot + (slot - bar) / 2
        y: float = TOP + plot_h
        for name, values in series.items():
            if not values[i]:
                continue
            h = values[i] / peak * plot_h
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{COLORS.get(name, "#6e7781")}"><title>{day:%d %b}: {values[i]} '
                f"{escape(name)}</title></rect>"
            )
        if i % 2 == 0 or days <= 7:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{HEIGHT - 8}" text-anchor="middle" '
                f'font-size="10">{day:%d %b}</text>'
            )
    x = LEFT
    for name in series:
        parts.append(
            f'<rect x="{x}" y="{HEIGHT + 6}" width="10" height="10" '
            f'fill="{COLORS.get(name, "#6e7781")}"/>'
            f'<text x="{x + 14}" y="{HEIGHT + 15}" font-size="11">{escape(name)}</text>'
        )
        x += 24 + 7 * len(name)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - built from numbers, dates and escaped names
