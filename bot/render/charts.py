"""The chart of a cell's groups over the last months (matplotlib, Agg, no pyplot state)."""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Sequence

from babel.numbers import format_percent
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties

from bot.core.i18n import Translator
from bot.render.reports import (
    BELOW,
    CHART_COLOURS,
    CHART_DPI,
    CHART_FONT,
    CHART_MONTHS,
    CHART_PX,
    MonthReport,
    group_title,
)
from bot.rules.framework import FrameworkSpec

# --- the chart ----------------------------------------------------------------------------


def group_chart_png(spec: FrameworkSpec, reports: Sequence[MonthReport], t: Translator) -> bytes:
    """Bars of each group's share of its points, the latest month and up to 5 before it.

    Months without a record are skipped; the dashed line is the share at which
    a group meets.  A PNG of :data:`CHART_PX` pixels.
    """
    _ = t.gettext
    months = sorted((r for r in reports if r.result is not None), key=lambda r: (r.year, r.month))
    months = months[-CHART_MONTHS:]
    font = FontProperties(family=CHART_FONT)

    def sized(size: float, bold: bool = False) -> FontProperties:
        copy = font.copy()
        copy.set_size(size)
        if bold:
            copy.set_weight("bold")
        return copy

    width, height = CHART_PX
    figure = Figure(figsize=(width / CHART_DPI, height / CHART_DPI), dpi=CHART_DPI)
    FigureCanvasAgg(figure)
    figure.set_layout_engine("constrained")
    axes = figure.add_subplot()
    cell = months[-1].cell_name if months else reports[-1].cell_name if reports else ""
    title = _("Criteria groups, % of their points")
    figure.suptitle(f"{cell}\n{title}" if cell else title, fontproperties=sized(19, bold=True))

    keys = [g.key for g in spec.groups]
    labels = [
        textwrap.fill(group_title(spec, key, t), width=20, max_lines=3, placeholder="…")
        for key in keys
    ]
    positions = list(range(len(keys)))
    threshold = spec.scoring.group_meets_at * 100
    axes.axhline(
        threshold,
        color=BELOW,
        linestyle="--",
        linewidth=2.2,
        label=_("meets at {percent}").format(
            percent=format_percent(spec.scoring.group_meets_at, locale=t.locale)
        ),
    )
    if months:
        bar = 0.84 / len(months)
        colours = CHART_COLOURS[-len(months) :]
        for index, report in enumerate(months):
            assert report.result is not None
            shares = {g.key: g.fraction * 100 for g in report.result.groups}
            heights = [shares.get(key, 0.0) for key in keys]
            offset = (index - (len(months) - 1) / 2) * bar
            label = f"{report.month}/{report.year}"
            if not report.confirmed:
                label += " " + _("(provisional)")
            bars = axes.bar(
                [p + offset for p in positions],
                heights,
                width=bar * 0.92,
                color=colours[index],
                edgecolor="#1b3a5c" if index == len(months) - 1 else "none",
                label=label,
            )
            if index == len(months) - 1:
                for rect, share in zip(bars, heights, strict=True):
                    axes.annotate(
                        format_percent(math.floor(share + 1e-9) / 100, locale=t.locale),
                        (rect.get_x() + rect.get_width() / 2, rect.get_height()),
                        xytext=(0, 3),
                        textcoords="offset points",
                        ha="center",
                        va="bottom",
                        fontproperties=sized(14, bold=True),
                        color="#1b3a5c" if share >= threshold - 1e-9 else BELOW,
                    )
    else:
        axes.text(
            0.5,
            0.5,
            _("No results recorded yet."),
            transform=axes.transAxes,
            ha="center",
            va="center",
            fontproperties=sized(18),
        )
    axes.legend(
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        ncol=min(len(months) + 1, 4),
        prop=sized(13),
        frameon=False,
    )
    axes.set_ylim(0, 112)
    axes.set_xlim(-0.5, len(keys) - 0.5)
    axes.set_xticks(positions, labels)
    axes.set_yticks([0, 20, 40, 60, 80, 100], ["0", "20", "40", "60", "80", "100%"])
    for tick in axes.get_xticklabels():
        tick.set_fontproperties(sized(14))
    for tick in axes.get_yticklabels():
        tick.set_fontproperties(sized(14))
    axes.tick_params(axis="x", length=0)
    axes.grid(axis="y", color="#dddddd", linewidth=0.8)
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)

    buffer = io.BytesIO()
    try:
        figure.savefig(buffer, format="png", dpi=CHART_DPI, facecolor="white")
    finally:
        figure.clear()
    return buffer.getvalue()
