"""The printable invite card: QR codes of the bot's links and the invite code, as a PNG.

Drawn with matplotlib (Agg, no pyplot state) in the drawing thread; segno makes the QR
matrices. Black on white only, at print resolution, so a cheap office printer keeps
every module sharp.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import segno
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from bot.render.reports import CHART_FONT

CARD_DPI = 300
CARD_PX = (1240, 1748)  # A6 portrait (105 × 148 mm) at 300 dpi
CODE_FONT = "DejaVu Sans Mono"  # ships with matplotlib; tells 0 from O and 1 from l
QR_ERROR = "q"  # a quarter of the code may be smudged or folded and it still reads
QUIET_ZONE = 4  # modules of white a reader needs around a QR code
MAX_LINKS = 2

_MARGIN = 80  # px on every side
_GAP = 40  # px between two QR codes side by side
_MAX_QR = 760  # px: one QR code alone is not drawn wider than this
_LINE = 1.3  # line height, in font sizes
_ASCENT = 1.0  # from a line's top to its baseline, in font sizes (room for "Ổ", "Ệ")


def qr_code(url: str) -> segno.QRCode:
    """The QR code drawn for `url` (never a Micro QR: phone cameras do not read those)."""
    return segno.make(url, error=QR_ERROR, micro=False)


def invite_card(
    cell: str, code: str, links: Sequence[tuple[str, str]], expires: str, lines: Sequence[str]
) -> bytes:
    """A PNG of :data:`CARD_PX` pixels: an invite for `cell`, to print and hand out.

    `links` are (app name, URL) pairs, one QR code each, side by side (one or two);
    `expires` and `lines` are shown as given (already translated and formatted).
    From the top: the cell's name, the QR codes with the app's name above each and
    the link below, the code large in a box, the validity, the instruction lines.
    """
    if not 1 <= len(links) <= MAX_LINKS:
        raise ValueError(f"an invite card shows 1 to {MAX_LINKS} links, not {len(links)}")
    width, height = CARD_PX
    figure = Figure(figsize=(width / CARD_DPI, height / CARD_DPI), dpi=CARD_DPI)
    canvas = FigureCanvasAgg(figure)
    card = _Card(figure, canvas.get_renderer())
    inner = width - 2 * _MARGIN
    column = (inner - _GAP * (len(links) - 1)) // len(links)

    title = card.block(_nfc(cell), inner, size=20, bold=True, max_lines=2)
    box_padding = 28
    code_block = card.block(code, inner - 2 * box_padding, size=34, bold=True, mono=True)
    expiry = card.block(_nfc(expires), inner, size=13, bold=True, max_lines=2)
    notes = [card.block(_nfc(line), inner, size=11, max_lines=3) for line in lines]
    labels = [card.block(_nfc(app), column, size=15, bold=True) for app, _ in links]
    shown = [_shown_url(url) for _, url in links]
    urls = [card.block(u, column, size=8, max_lines=u.count("\n") + 1, mono=True) for u in shown]
    codes = [qr_code(url) for _, url in links]

    label_height = max(b.height for b in labels)
    url_height = max(b.height for b in urls)
    code_height = code_block.height + 2 * box_padding
    notes_height = sum(n.height for n in notes) + _GAP // 3 * max(0, len(notes) - 1)
    text_height = title.height + label_height + url_height + code_height + expiry.height
    # Five gaps: around the rule under the title, and after the QR codes, the code and
    # the validity; whatever the QR codes leave over is shared among them.
    room = height - 2 * _MARGIN - text_height - notes_height - 5 * _GAP
    modules = max(_modules(q) for q in codes)
    scale = min(column, _MAX_QR, room) // modules
    if scale < 3:
        raise ValueError("the links are too long to print as QR codes on one card")
    side = scale * modules
    gap = _GAP + (room - side) // 5

    y = card.draw(title, _MARGIN, inner, _MARGIN) + gap
    rule = 1 - y / height
    figure.add_artist(
        Line2D([_MARGIN / width, 1 - _MARGIN / width], [rule, rule], color="black", linewidth=1.5)
    )
    y += gap
    row = len(links) * column + _GAP * (len(links) - 1)
    left = (width - row) // 2
    for n, (label, url, qr) in enumerate(zip(labels, urls, codes, strict=True)):
        x = left + n * (column + _GAP)
        card.draw(label, x, column, y)
        drawn = _modules(qr) * scale
        card.qr(qr, scale, x + (column - drawn) // 2, y + label_height + (side - drawn) // 2)
        card.draw(url, x, column, y + label_height + side)
    y += label_height + side + url_height + gap
    box_width = code_block.width + 2 * box_padding
    figure.add_artist(
        Rectangle(
            ((width - box_width) / 2 / width, 1 - (y + code_height) / height),
            box_width / width,
            code_height / height,
            fill=False,
            edgecolor="black",
            linewidth=3,
        )
    )
    card.draw(code_block, _MARGIN, inner, y + box_padding)
    y += code_height + gap
    y = card.draw(expiry, _MARGIN, inner, y) + gap
    for note in notes:
        y = card.draw(note, _MARGIN, inner, y) + _GAP // 3

    buffer = io.BytesIO()
    try:
        figure.savefig(buffer, format="png", dpi=CARD_DPI, facecolor="white")
    finally:
        figure.clear()
    return buffer.getvalue()


# --- layout ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Block:
    """Lines of text that fit a width, in one font."""

    lines: list[str]
    font: FontProperties
    size_px: float
    width: int  # px, the widest line

    @property
    def height(self) -> int:
        return round(len(self.lines) * self.size_px * _LINE)


class _Card:
    """Measures and places text and QR codes in pixels from the card's top left corner."""

    def __init__(self, figure: Figure, renderer: RendererAgg) -> None:
        self.figure = figure
        self.renderer = renderer
        self.width, self.height = CARD_PX
        self._widths: dict[tuple[str, FontProperties], float] = {}  # px, by text and font

    def block(
        self,
        text: str,
        width: int,
        *,
        size: float,
        bold: bool = False,
        mono: bool = False,
        max_lines: int = 1,
        min_size: float = 7,
    ) -> _Block:
        """`text` at the largest size from `size` down that fits `width` in `max_lines`;
        at `min_size` it is wrapped anyway (a word too long is cut)."""
        font = FontProperties(family=CODE_FONT if mono else CHART_FONT, size=size)
        if bold:
            font.set_weight("bold")
        while True:
            lines = self._wrap(text, font, width)
            if len(lines) <= max_lines or size <= min_size:
                break
            # Text widths grow with the size: one line shrinks straight to its width.
            whole = self._measure(text, font)
            smaller = size * width / whole if max_lines == 1 and whole > 0 else size
            size = max(min_size, min(size - 0.5, smaller * 0.999))
            font = font.copy()
            font.set_size(size)
        widest = max((self._measure(line, font) for line in lines), default=0)
        return _Block(lines, font, size * CARD_DPI / 72, round(widest))

    def draw(self, block: _Block, left: int, width: int, top: int) -> int:
        """Draw `block` centred in [left, left + width] from `top`; the y below it."""
        for n, line in enumerate(block.lines):
            baseline = top + block.size_px * (n * _LINE + _ASCENT)
            self.figure.text(
                (left + width / 2) / self.width,
                1 - baseline / self.height,
                line,
                fontproperties=block.font,
                color="black",
                ha="center",
                va="baseline",
                parse_math=False,
            )
        return top + block.height

    def qr(self, qr: segno.QRCode, scale: int, left: int, top: int) -> None:
        """Draw `qr` with its quiet zone, `scale` px a module, pixel for pixel."""
        dark = np.pad(np.asarray(qr.matrix, dtype=bool), QUIET_ZONE)
        pixels = np.where(np.kron(dark, np.ones((scale, scale), dtype=bool)), 0, 255)
        rgb = np.repeat(pixels.astype(np.uint8)[:, :, None], 3, axis=2)
        # figimage puts the array's first row at the top and does not resample it
        # when saved at the figure's own dpi.
        self.figure.figimage(rgb, xo=left, yo=self.height - top - rgb.shape[0], origin="upper")

    def _wrap(self, text: str, font: FontProperties, width: int) -> list[str]:
        """Lines of whole words within `width`; a word wider than that is cut."""
        space = self._measure(" ", font)
        lines: list[str] = []
        for paragraph in text.splitlines() or [""]:
            current: list[str] = []
            used = 0.0
            for word in paragraph.split():
                # A line's width is its words' and spaces' (kerning across a space is nil):
                # measuring words, not every longer candidate line, keeps this linear.
                size = self._measure(word, font)
                if current and used + space + size <= width:
                    current.append(word)
                    used += space + size
                    continue
                if current:
                    lines.append(" ".join(current))
                while size > width and len(word) > 1:
                    cut = self._longest_prefix(word, font, width)
                    lines.append(word[:cut])
                    word = word[cut:]
                    size = self._measure(word, font)
                current, used = [word], size
            lines.append(" ".join(current))
        return lines

    def _longest_prefix(self, word: str, font: FontProperties, width: int) -> int:
        """The most characters of `word` that fit `width` (at least one)."""
        fits, over = 1, len(word)
        while over - fits > 1:
            middle = (fits + over) // 2
            if self._measure(word[:middle], font) <= width:
                fits = middle
            else:
                over = middle
        return fits

    def _measure(self, text: str, font: FontProperties) -> float:
        key = (text, font)
        if key not in self._widths:
            width, _, _ = self.renderer.get_text_width_height_descent(text, font, ismath=False)
            self._widths[key] = float(width)
        return self._widths[key]


def _nfc(text: str) -> str:
    """Composed letters: DejaVu has a glyph for "ệ", while a decomposed "ê" + dot may misplace."""
    return unicodedata.normalize("NFC", text)


def _shown_url(url: str) -> str:
    """The link as printed under its QR code: no scheme, the query on a line of its own."""
    shown = url.removeprefix("https://").removeprefix("http://")
    return shown.replace("?", "\n?", 1)


def _modules(qr: segno.QRCode) -> int:
    """Modules across `qr` with its quiet zone."""
    return len(qr.matrix) + 2 * QUIET_ZONE
