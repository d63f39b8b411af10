"""Grids of coloured squares as SVG, drawn on the server: the committee's cells × months and a
cell's months × groups in the web view.

Pure rendering, no database and no translation: the caller gives every label. Colours are the
Okabe–Ito palette (safe for the common colour-vision deficiencies), and every square also
carries its number and mark as text, so colour is never the only way to read it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

# Okabe & Ito (2008): blue, sky blue, yellow and vermillion stay apart for deuteranopes,
# protanopes and tritanopes, and differ in lightness too (so they survive grey print).
LEVEL_COLOURS = {
    "excellent": ("#0072B2", "#FFFFFF"),
    "good": ("#56B4E9", "#000000"),
    "completed": ("#F0E442", "#000000"),
    "not_completed": ("#D55E00", "#000000"),
}
MEETS_COLOURS = ("#0072B2", "#FFFFFF")
FAILS_COLOURS = ("#D55E00", "#000000")
OTHER_COLOURS = ("#BBBBBB", "#000000")  # a level of a framework with its own bands
EMPTY_FILL = "#F2F2F2"
GRID_LINE = "#FFFFFF"
MARK = "★"  # a "4 tốt" month

CELL_W, CELL_H, GAP = 46, 30, 2
FONT = "DejaVu Sans, Arial, sans-serif"


@dataclass(frozen=True)
class Square:
    """One coloured square: its text, colours, and what a pointer or screen reader gets."""

    text: str
    fill: str
    ink: str
    title: str
    mark: bool = False  # drawn with MARK and a thick frame ("4 tốt")


@dataclass(frozen=True)
class Row:
    label: str
    squares: Sequence[Square | None]  # None: nothing recorded
    href: str | None = None
    tail: str = ""  # a short text after the squares (e.g. the count of "4 tốt" months)


def level_colours(level: str | None) -> tuple[str, str]:
    return LEVEL_COLOURS.get(level or "", OTHER_COLOURS)


def grid_svg(
    columns: Sequence[str],
    rows: Sequence[Row],
    *,
    title: str,
    label_width: int = 200,
    tail_width: int = 50,
    tail_head: str = "",
    max_label: int = 28,
) -> str:
    """The grid as an inline <svg> that scales to its container (no horizontal scroll)."""
    width = label_width + len(columns) * (CELL_W + GAP) + (tail_width if tail_width else 0)
    height = CELL_H + GAP + len(rows) * (CELL_H + GAP)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="grid" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}" '
        f'font-family="{FONT}" font-size="12">',
        f"<title>{escape(title)}</title>",
    ]
    for index, column in enumerate(columns):
        x = label_width + index * (CELL_W + GAP) + CELL_W / 2
        parts.append(
            f'<text x="{x:g}" y="{CELL_H - 10}" text-anchor="middle" font-weight="bold">'
            f"{escape(column)}</text>"
        )
    if tail_head:
        x = label_width + len(columns) * (CELL_W + GAP) + tail_width / 2
        parts.append(
            f'<text x="{x:g}" y="{CELL_H - 10}" text-anchor="middle" font-weight="bold">'
            f"{escape(tail_head)}</text>"
        )
    for number, row in enumerate(rows):
        y = CELL_H + GAP + number * (CELL_H + GAP)
        parts.append(_label(row, y, label_width, max_label))
        for index, square in enumerate(row.squares):
            x = label_width + index * (CELL_W + GAP)
            parts.append(_square(square, x, y))
        if row.tail:
            x = label_width + len(row.squares) * (CELL_W + GAP) + tail_width / 2
            parts.append(
                f'<text x="{x:g}" y="{y + CELL_H / 2 + 4:g}" text-anchor="middle">'
                f"{escape(row.tail)}</text>"
            )
    parts.append("</svg>")
    return "\n".join(parts)


def _label(row: Row, y: int, width: int, max_label: int) -> str:
    shown = row.label if len(row.label) <= max_label else row.label[: max_label - 1] + "…"
    text = (
        f'<text x="4" y="{y + CELL_H / 2 + 4:g}"><title>{escape(row.label)}</title>'
        f"{escape(shown)}</text>"
    )
    if row.href is None:
        return text
    return f'<a href="{escape(row.href)}" fill="#0050A0" text-decoration="underline">{text}</a>'


def _square(square: Square | None, x: int, y: int) -> str:
    if square is None:
        return (
            f'<rect x="{x}" y="{y}" width="{CELL_W}" height="{CELL_H}" fill="{EMPTY_FILL}"/>'
            f'<text x="{x + CELL_W / 2:g}" y="{y + CELL_H / 2 + 4:g}" text-anchor="middle" '
            f'fill="#767676">–</text>'
        )
    frame = ' stroke="#000000" stroke-width="3"' if square.mark else ""
    text = f"{MARK}{square.text}" if square.mark else square.text
    return (
        f"<g><title>{escape(square.title)}</title>"
        f'<rect x="{x}" y="{y}" width="{CELL_W}" height="{CELL_H}" fill="{square.fill}"{frame}/>'
        f'<text x="{x + CELL_W / 2:g}" y="{y + CELL_H / 2 + 4:g}" text-anchor="middle" '
        f'fill="{square.ink}" font-weight="bold">{escape(text)}</text></g>'
    )


STRIP_W, STRIP_H = 48, 40


def strip_svg(
    labels: Sequence[str], squares: Sequence[Square | None], *, title: str, per_line: int = 6
) -> str:
    """One row of the grid folded into lines of `per_line` squares, each with its column's
    label inside: the phone's layout, readable at 320 pixels without scrolling sideways."""
    lines = -(-len(squares) // per_line)
    width = per_line * (STRIP_W + GAP)
    height = lines * (STRIP_H + GAP)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="strip" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(title)}" font-family="{FONT}" font-size="13">',
        f"<title>{escape(title)}</title>",
    ]
    for index, square in enumerate(squares):
        x = (index % per_line) * (STRIP_W + GAP)
        y = (index // per_line) * (STRIP_H + GAP)
        fill, ink = (square.fill, square.ink) if square else (EMPTY_FILL, "#595959")
        frame = ' stroke="#000000" stroke-width="3"' if square and square.mark else ""
        text = "–" if square is None else (f"{MARK}{square.text}" if square.mark else square.text)
        tip = f"<title>{escape(square.title)}</title>" if square else ""
        parts.append(
            f'<g>{tip}<rect x="{x}" y="{y}" width="{STRIP_W}" height="{STRIP_H}" fill="{fill}"'
            f'{frame}/><text x="{x + 4}" y="{y + 12}" font-size="10" fill="{ink}">'
            f"{escape(labels[index])}</text>"
            f'<text x="{x + STRIP_W / 2:g}" y="{y + 32}" text-anchor="middle" fill="{ink}" '
            f'font-weight="bold">{escape(text)}</text></g>'
        )
    parts.append("</svg>")
    return "\n".join(parts)
