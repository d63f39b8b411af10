"""A small bar chart of shares (0–1) as SVG, drawn on the server: the committee's share of
"4 tốt" cells month by month in the web view.

Pure rendering, no database and no translation: the caller gives every label. Each bar also
carries its percentage as text, so the figure never rests on the bar's height alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from bot.render.heatmap import FONT, LEVEL_COLOURS

BAR_W, GAP, PLOT_H, TOP, BOTTOM = 28, 6, 90, 18, 18
BAR_FILL = LEVEL_COLOURS["excellent"][0]
AXIS = "#595959"


def share_bars_svg(
    labels: Sequence[str], shares: Sequence[float | None], percents: Sequence[str], *, title: str
) -> str:
    """One bar per label, as tall as its share; `percents` are the shares as the reader's
    locale writes them; None: no bar and a dash. Scales to its box (a 360-pixel phone)."""
    width = len(labels) * (BAR_W + GAP) + GAP
    height = TOP + PLOT_H + BOTTOM
    base = TOP + PLOT_H
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="bars-chart" viewBox="0 0 {width} '
        f'{height}" role="img" aria-label="{escape(title)}" font-family="{FONT}" '
        f'font-size="10">',
        f"<title>{escape(title)}</title>",
        f'<line x1="0" y1="{base}" x2="{width}" y2="{base}" stroke="{AXIS}"/>',
    ]
    for index, (label, share) in enumerate(zip(labels, shares, strict=True)):
        x = GAP + index * (BAR_W + GAP)
        middle = x + BAR_W / 2
        if share is None:
            parts.append(
                f'<text x="{middle:g}" y="{base - 4}" text-anchor="middle" fill="{AXIS}">–</text>'
            )
        else:
            tall = max(1.0, PLOT_H * min(max(share, 0.0), 1.0))
            text = escape(percents[index])
            parts.append(
                f"<g><title>{escape(label)}: {text}</title>"
                f'<rect x="{x}" y="{base - tall:g}" width="{BAR_W}" height="{tall:g}" '
                f'fill="{BAR_FILL}"/><text x="{middle:g}" y="{base - tall - 4:g}" '
                f'text-anchor="middle" fill="#000000">{text}</text></g>'
            )
        parts.append(
            f'<text x="{middle:g}" y="{height - 5}" text-anchor="middle" fill="#000000">'
            f"{escape(label)}</text>"
        )
    parts.append("</svg>")
    return "\n".join(parts)
