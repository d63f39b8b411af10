"""Reports of a cell's months and year: chat summaries, a chart, a workbook and a CSV file.

Pure rendering: the inputs are the plain dataclasses below (filled by the
aggregation queries in ``storage``), the scores come from :mod:`bot.scoring`,
every word shown goes through the reader's :class:`~bot.i18n.Translator` and
every group title and classification label comes from the framework, in the
reader's language.  Nothing here touches the database or a chat.

* :func:`summary_text` — the secretary's month on a phone, within a chat
  message's length limit (member lists are cut with "… and N more").
* :func:`year_text` — the year in one line per month, then the year-end
  suggestion for the cell and its members.
* :func:`group_chart_png` — bars of each group's share of its points over the
  last months (matplotlib, Agg, a figure per call: no pyplot state).
* :func:`year_workbook` — an XLSX file: the year sheet, then one sheet per month.
* :func:`year_csv` — one row per (month, group) plus a total row per month,
  UTF-8 with a byte order mark so that Excel on Windows reads the diacritics.

Numbers are rounded only here, when they are shown: one decimal for points
(half up, as people round by hand), whole percent rounded *down* so that a
group shown at "70 %" really meets a 70 % threshold.  The workbook keeps the
exact values and formats them with one decimal; the CSV writes one decimal
with a dot (machine-readable, whatever the reader's language).
"""

from __future__ import annotations

import csv
import io
import math
import re
import textwrap
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import format_decimal, format_percent
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from bot.framework import BandSpec, CriterionSpec, FrameworkSpec, GroupSpec, localized
from bot.i18n import N_, Translator
from bot.scoring import CellMonth, YearResult

TELEGRAM_TEXT_LIMIT = 4096
"""Telegram's limit on a message's text; pass ``limit=2000`` for Zalo."""

SUBMITTED = "submitted"
IN_PROGRESS = "in_progress"
NOT_STARTED = "not_started"
EXCUSED = "excused"
PROGRESS_LABELS = {
    SUBMITTED: N_("submitted"),
    IN_PROGRESS: N_("in progress"),
    NOT_STARTED: N_("not started"),
    EXCUSED: N_("excused"),
}
"""A member's progress in the month → its label (translate when shown)."""

LEVEL_SHORT = {
    "excellent": N_("Excellent"),
    "good": N_("Good"),
    "completed": N_("Completed"),
    "not_completed": N_("Not completed"),
}
"""Short names of the default framework's levels, for one-line and column views.

A framework with other level keys shows its band labels instead.
"""

MEETS, FAILS = "✓", "✗"
CHART_PX = (900, 600)
CHART_DPI = 100
CHART_MONTHS = 6
CHART_FONT = "DejaVu Sans"  # ships with matplotlib and has every Vietnamese letter
_BELOW = "#c0392b"  # the threshold line, and a latest share below it
CHART_COLOURS = ("#c9d6e8", "#aac0dd", "#8aa9d1", "#6a92c4", "#4a7ab6", "#1f5aa6")
"""Older months lighter, the latest month darkest."""

_QUESTION_WIDTH = 60
_COMMENT_WIDTH = 100
_NOTES_WIDTH = 300


# --- inputs ----------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberLine:
    """One member's month."""

    name: str
    progress: str  # SUBMITTED | IN_PROGRESS | NOT_STARTED | EXCUSED
    total: float | None  # 0–100 member score; None: not submitted
    level: str | None  # band level key, e.g. "good"
    low_answers: tuple[tuple[str, str, str | None], ...] = ()
    """(question text, answer label, comment) for answers below the comment threshold."""

    def __post_init__(self) -> None:
        if self.progress not in PROGRESS_LABELS:
            raise ValueError(
                f"progress {self.progress!r} is not one of {', '.join(PROGRESS_LABELS)}"
            )


@dataclass(frozen=True)
class MonthReport:
    cell_name: str
    year: int
    month: int
    result: CellMonth | None  # None: no record for the month
    members: tuple[MemberLine, ...]
    confirmed: bool  # the secretary confirmed the month (else provisional)
    notes: str | None = None  # the meeting's notes added at confirmation

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise ValueError(f"month {self.month} is not between 1 and 12")


@dataclass(frozen=True)
class YearReport:
    cell_name: str
    year: int
    months: tuple[MonthReport | None, ...]  # 12 entries, January first
    result: YearResult
    member_years: tuple[tuple[str, YearResult], ...]  # (member name, their year)

    def __post_init__(self) -> None:
        if len(self.months) != 12:
            raise ValueError(f"a year has 12 months, {len(self.months)} given")


# --- formatting helpers -------------------------------------------------------------------


def _round1(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _points(t: Translator, value: float) -> str:
    """Points with one decimal in the reader's locale: "78,5"."""
    return format_decimal(_round1(value), "#,##0.0", locale=t.locale)


def _max_points(t: Translator, value: float) -> str:
    """A maximum without a needless decimal: "30", "2,5"."""
    return format_decimal(value, "#,##0.##", locale=t.locale)


def _percent(t: Translator, fraction: float) -> str:
    """Whole percent, rounded down so that 69.9 % never reads as the 70 % it misses."""
    whole = math.floor(fraction * 100 + 1e-9)
    return format_percent(whole / 100, locale=t.locale)


def _signed(t: Translator, before: float, now: float) -> str:
    """The change between two totals as shown (rounded first, so that the figures add up)."""
    rounded = _round1(now) - _round1(before)
    sign = "+" if rounded > 0 else "−" if rounded < 0 else "±"
    return sign + format_decimal(abs(rounded), "#,##0.0", locale=t.locale)


def _shorten(text: str, width: int) -> str:
    """One line of at most ``width`` characters, cut at a word with "…"."""
    flat = " ".join(text.split())
    if len(flat) <= width:
        return flat
    cut = flat[: width - 1]
    if " " in cut[width // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,.;:") + "…"


def _band(spec: FrameworkSpec, level: str | None) -> BandSpec | None:
    return next((b for b in spec.scoring.bands if b.level == level), None)


def _level_label(spec: FrameworkSpec, level: str | None, t: Translator) -> str:
    band = _band(spec, level)
    return localized(band.label, t.locale) if band else (level or "")


def _level_short(spec: FrameworkSpec, level: str | None, t: Translator) -> str:
    if level in LEVEL_SHORT:
        return t.gettext(LEVEL_SHORT[level])
    return _level_label(spec, level, t)


def _groups(spec: FrameworkSpec) -> dict[str, tuple[int, GroupSpec]]:
    return {g.key: (i, g) for i, g in enumerate(spec.groups, start=1)}


def _group_title(spec: FrameworkSpec, key: str, t: Translator) -> str:
    found = _groups(spec).get(key)
    return f"{found[0]}. {localized(found[1].title, t.locale)}" if found else key


def _criteria(spec: FrameworkSpec) -> dict[str, CriterionSpec]:
    return {c.key: c for g in spec.groups for c in g.criteria}


def _criterion_title(spec: FrameworkSpec, key: str, t: Translator) -> str:
    criterion = _criteria(spec).get(key)
    return localized(criterion.title, t.locale) if criterion else key


def _month_label(t: Translator, month: int) -> str:
    # Translators: a month in a column or line head, e.g. "T1" in Vietnamese, "M1" in English.
    return t.gettext("M{month}").format(month=month)


def _names(t: Translator, names: Sequence[str], cap: int | None) -> str:
    """Names joined by commas; beyond ``cap``, "… and N more"."""
    if cap is None or len(names) <= cap:
        return ", ".join(names)
    more = t.gettext("… and {n} more").format(n=len(names) - cap)
    return ", ".join([*names[:cap], more]) if cap else more


def _length(text: str) -> int:
    """Length as chat platforms count it: UTF-16 code units (an emoji counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def _fit(render: Callable[[int | None], str], limit: int) -> str:
    """The fullest rendering within ``limit``: lists are cut shorter until the text fits."""
    for cap in (None, 40, 20, 10, 5, 2, 0):
        text = render(cap)
        if _length(text) <= limit:
            return text
    cut = text[: limit - 1]
    while _length(cut) > limit - 1:
        cut = cut[:-1]
    return cut + "…"


def _previous_with_record(
    report: MonthReport, previous: Iterable[MonthReport]
) -> MonthReport | None:
    earlier = [
        p
        for p in previous
        if p.result is not None and (p.year, p.month) < (report.year, report.month)
    ]
    return max(earlier, key=lambda p: (p.year, p.month), default=None)


# --- the month's summary ------------------------------------------------------------------


def summary_text(
    spec: FrameworkSpec,
    report: MonthReport,
    t: Translator,
    previous: Sequence[MonthReport] = (),
    *,
    limit: int = TELEGRAM_TEXT_LIMIT,
) -> str:
    """The secretary's summary of a month, for a phone, at most ``limit`` characters.

    ``previous`` are earlier months (any order); the latest one with a record
    before ``report`` gives the trend line.
    """
    _ = t.gettext
    result = report.result

    head = [
        "📋 "
        + _("Self-assessment {month}/{year}").format(month=report.month, year=report.year)
        + " — "
        + report.cell_name
        + ("" if report.confirmed else " " + _("(provisional)"))
    ]
    if result is None:
        head.append(_("No results recorded for this month."))
    else:
        head.append("")
        head += _group_lines(spec, result, t)
        head.append("")
        head.append(
            _("Total: {total}/{max}").format(
                total=_points(t, result.total),
                max=_max_points(t, sum(g.max_points for g in result.groups)),
            )
        )
        head.append(
            _("Suggested classification: {label}").format(label=_level_label(spec, result.level, t))
        )
        if result.four_good:
            head.append(f"{MEETS} " + _("4-good month: every group meets"))
        else:
            head.append(f"{FAILS} " + _("Not a 4-good month"))
        head += _data_notes(spec, result, t)

    excused = [m for m in report.members if m.progress == EXCUSED]
    expected = [m for m in report.members if m.progress != EXCUSED]
    done = sum(m.progress == SUBMITTED for m in expected)
    completion = _("Submitted: {done} of {count}").format(done=done, count=len(expected))
    if excused:
        completion += ", " + t.ngettext("{n} excused", "{n} excused", len(excused)).format(
            n=len(excused)
        )
    missing = [m.name for m in expected if m.progress != SUBMITTED]
    low = [m for m in report.members if m.low_answers]

    tail: list[str] = []
    before = _previous_with_record(report, previous)
    if result is not None and before is not None and before.result is not None:
        tail += [
            "",
            "📈 "
            + _("Compared with {month}/{year}: {change} ({before} → {now})").format(
                month=before.month,
                year=before.year,
                change=_signed(t, before.result.total, result.total),
                before=_points(t, before.result.total),
                now=_points(t, result.total),
            ),
        ]
    if report.notes and report.notes.strip():
        tail += [
            "",
            "📝 " + _("Meeting notes: {notes}").format(notes=_shorten(report.notes, _NOTES_WIDTH)),
        ]

    def render(cap: int | None) -> str:
        lines = [*head, "", "👥 " + completion]
        if missing:
            lines.append(
                "⬜ "
                + _("Not answered yet ({n}):").format(n=len(missing))
                + " "
                + _names(t, missing, cap)
            )
        elif expected:
            lines.append(f"{MEETS} " + _("Everyone has answered."))
        if low:
            lines += ["", "⚠️ " + _("Answers below the mark ({n}):").format(n=len(low))]
            lines += _low_answer_lines(t, low, cap)
        return "\n".join(lines + tail)

    return _fit(render, limit)


def _group_lines(spec: FrameworkSpec, result: CellMonth, t: Translator) -> list[str]:
    return [
        f"{MEETS if group.meets else FAILS} {_group_title(spec, group.key, t)}: "
        f"{_points(t, group.points)}/{_max_points(t, group.max_points)}"
        f" ({_percent(t, group.fraction)})"
        for group in result.groups
    ]


def _data_notes(spec: FrameworkSpec, result: CellMonth, t: Translator) -> list[str]:
    lines = []
    if result.missing:
        titles = [_shorten(_criterion_title(spec, k, t), 40) for k in result.missing]
        lines.append(
            "⚠️ "
            + t.ngettext(
                "No data yet for {n} criterion: {names}",
                "No data yet for {n} criteria: {names}",
                len(titles),
            ).format(n=len(titles), names=_names(t, titles, 5))
        )
    if result.adjusted:
        titles = [_shorten(_criterion_title(spec, k, t), 40) for k in result.adjusted]
        lines.append(
            "✏️ "
            + t.gettext("Adjusted by the secretary: {names}").format(names=_names(t, titles, 5))
        )
    return lines


def _low_answer_lines(t: Translator, members: Sequence[MemberLine], cap: int | None) -> list[str]:
    shown = members if cap is None else members[:cap]
    per_member = None if cap is None else max(1, min(3, cap))
    no_comment = "(" + t.gettext("No comment") + ")"
    lines: list[str] = []
    for member in shown:
        lines.append(f"• {member.name}")
        answers = member.low_answers if per_member is None else member.low_answers[:per_member]
        for question, answer, comment in answers:
            why = (
                f"“{_shorten(comment, _COMMENT_WIDTH)}”"
                if comment and comment.strip()
                else no_comment
            )
            lines.append(f"   – {_shorten(question, _QUESTION_WIDTH)} → {answer}: {why}")
        if len(answers) < len(member.low_answers):
            more = len(member.low_answers) - len(answers)
            lines.append("   " + t.gettext("… and {n} more").format(n=more))
    if len(shown) < len(members):
        lines.append(t.gettext("… and {n} more").format(n=len(members) - len(shown)))
    return lines


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
        textwrap.fill(_group_title(spec, key, t), width=20, max_lines=3, placeholder="…")
        for key in keys
    ]
    positions = list(range(len(keys)))
    threshold = spec.scoring.group_meets_at * 100
    axes.axhline(
        threshold,
        color=_BELOW,
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
                        color="#1b3a5c" if share >= threshold - 1e-9 else _BELOW,
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


# --- the year in text ----------------------------------------------------------------------


def year_text(
    spec: FrameworkSpec, report: YearReport, t: Translator, *, limit: int = TELEGRAM_TEXT_LIMIT
) -> str:
    """The year in one line per month, then the year-end suggestions (cell and members)."""
    _ = t.gettext
    year = report.result
    head = [
        "📅 " + _("Year {year} — {cell}").format(year=report.year, cell=report.cell_name),
        _("Per month: groups 1–{n} ({meets} meets, {fails} below {percent}), total, level").format(
            n=len(spec.groups),
            meets=MEETS,
            fails=FAILS,
            percent=format_percent(spec.scoring.group_meets_at, locale=t.locale),
        ),
        "",
    ]
    provisional = False
    unrecorded: list[int] = []  # a run of months without a record, shown as one line

    def flush() -> None:
        if unrecorded:
            span = _month_label(t, unrecorded[0])
            if len(unrecorded) > 1:
                span += "–" + _month_label(t, unrecorded[-1])
            head.append(f"{span} — " + _("no record"))
            unrecorded.clear()

    for number, month in enumerate(report.months, start=1):
        if month is None or month.result is None:
            unrecorded.append(number)
            continue
        flush()
        line = _month_label(t, number)
        result = month.result
        marks = "".join(MEETS if g.meets else FAILS for g in result.groups)
        line += f" {marks} {_points(t, result.total)} {_level_short(spec, result.level, t)}"
        if not month.confirmed:
            line += " *"
            provisional = True
        head.append(line)
    flush()
    if provisional:
        head.append("* " + _("provisional, not yet confirmed"))

    head += [
        "",
        "⭐ "
        + _("4-good months: {n} of {months}").format(n=year.four_good_months, months=year.months),
    ]
    if year.mean_total is not None:
        head.append(
            _("Mean total: {total} — {label}").format(
                total=_points(t, year.mean_total), label=_level_label(spec, year.level, t)
            )
        )
    if year.months_recorded < year.months:
        head.append(
            _("{n} of {months} months recorded so far.").format(
                n=year.months_recorded, months=year.months
            )
        )
    head += ["", "🏅 " + _cell_verdict(spec, report, t)]
    head.append(
        "ℹ️ "
        + _(
            "This is only a suggestion computed from the monthly results; "
            "the cell and the superior committee decide."
        )
    )

    recognised = [name for name, result in report.member_years if result.recognised]

    def render(cap: int | None) -> str:
        lines = list(head)
        if report.member_years:
            lines += [
                "",
                "👥 "
                + _("Members meeting the year-end rule: {n} of {count}").format(
                    n=len(recognised), count=len(report.member_years)
                ),
            ]
            if recognised:
                lines.append(_names(t, recognised, cap))
        return "\n".join(lines)

    return _fit(render, limit)


def _year_reasons(spec: FrameworkSpec, report: YearReport, t: Translator) -> list[str]:
    year = report.result
    reasons = [
        t.gettext("{n}/{months} 4-good months, {min} needed").format(
            n=year.four_good_months, months=year.months, min=year.four_good_months_min
        )
    ]
    if year.forbidden_months:
        forbid = spec.scoring.year_end.forbid_level
        reasons.append(
            t.gettext("months rated {label} or lower: {months}").format(
                label=_level_label(spec, forbid, t),
                months=", ".join(_month_label(t, i + 1) for i in year.forbidden_months),
            )
        )
    return reasons


def _verdict(t: Translator, recognised: bool) -> str:
    return (
        t.gettext("recognised as a 4-good cell")
        if recognised
        else t.gettext("not recognised as a 4-good cell")
    )


def _cell_verdict(spec: FrameworkSpec, report: YearReport, t: Translator) -> str:
    return t.gettext("Year-end suggestion: {verdict} ({reasons}).").format(
        verdict=_verdict(t, report.result.recognised),
        reasons="; ".join(_year_reasons(spec, report, t)),
    )


# --- the workbook ---------------------------------------------------------------------------


_THIN = Side(style="thin", color="808080")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEADER_FILL = PatternFill("solid", fgColor="DCE6F1")
_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=14)
_WRAP = Alignment(wrap_text=True, vertical="top")
_CENTRE = Alignment(horizontal="center", vertical="center", wrap_text=True)
_ONE_DECIMAL = "0.0"
_HEADER_ROW = 4


def year_workbook(spec: FrameworkSpec, report: YearReport, t: Translator) -> bytes:
    """The year as an XLSX file: the year sheet, then a sheet per month with a record."""
    _ = t.gettext
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = _sheet_title(_("Year {year}").format(year=report.year), set())
    used = {sheet.title}
    _year_sheet(spec, report, t, sheet)
    for month in report.months:
        if month is None or month.result is None:
            continue
        name = _sheet_title(_("Month {month}").format(month=month.month), used)
        used.add(name)
        _month_sheet(spec, month, month.result, t, book.create_sheet(name))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _year_sheet(spec: FrameworkSpec, report: YearReport, t: Translator, sheet: Worksheet) -> None:
    _ = t.gettext
    year = report.result
    _titles(
        sheet,
        _("Year {year} — {cell}").format(year=report.year, cell=report.cell_name),
        localized(spec.title, t.locale),
    )
    header = [_("Criteria group"), _("Max points")] + [_month_label(t, m) for m in range(1, 13)]
    _header(sheet, _HEADER_ROW, header)
    results = [m.result if m is not None else None for m in report.months]
    row = _HEADER_ROW + 1
    for group in spec.groups:
        values: list[object] = []
        for result in results:
            found = next((g for g in result.groups if g.key == group.key), None) if result else None
            values.append(found.points if found else None)
        _row(sheet, row, [_group_title(spec, group.key, t), group.weight, *values], numbers=True)
        row += 1
    total_max = sum(g.weight for g in spec.groups)
    _row(
        sheet,
        row,
        [_("Total"), total_max, *[r.total if r else None for r in results]],
        numbers=True,
        bold=True,
    )
    row += 1
    levels = [_level_short(spec, r.level, t) if r else None for r in results]
    _row(sheet, row, [_("Suggested classification"), None, *levels])
    row += 1
    goods = [_yes_no(t, r.four_good) if r else None for r in results]
    _row(sheet, row, [_("4-good month"), None, *goods])
    row += 1
    confirmed = [_yes_no(t, m.confirmed) if m and m.result else None for m in report.months]
    _row(sheet, row, [_("Confirmed by the secretary"), None, *confirmed])
    for column in range(3, 15):
        for r in range(_HEADER_ROW + 1 + len(spec.groups), row + 1):
            sheet.cell(r, column).alignment = _CENTRE
    row += 2

    summary: list[tuple[str, object]] = [
        (_("4-good months"), f"{year.four_good_months}/{year.months}"),
        (_("Mean total"), year.mean_total),
        (_("Suggested classification"), _level_label(spec, year.level, t) if year.level else None),
        (
            _("Year-end suggestion"),
            f"{_verdict(t, year.recognised)} ({'; '.join(_year_reasons(spec, report, t))})",
        ),
    ]
    for label, value in summary:
        sheet.cell(row, 1, label).font = _BOLD
        cell = sheet.cell(row, 2, value)
        if isinstance(value, float):
            cell.number_format = _ONE_DECIMAL
            cell.alignment = Alignment(horizontal="left")
        row += 1
    sheet.cell(
        row,
        1,
        _(
            "This is only a suggestion computed from the monthly results; "
            "the cell and the superior committee decide."
        ),
    ).font = Font(italic=True)
    row += 2

    if report.member_years:
        _header(
            sheet,
            row,
            [
                _("Member"),
                _("Months submitted"),
                _("4-good months"),
                _("Mean total"),
                _("Suggested for recognition"),
            ],
        )
        sheet.row_dimensions[row].height = 45
        row += 1
        for name, member in report.member_years:
            _row(
                sheet,
                row,
                [
                    name,
                    member.months_recorded,
                    member.four_good_months,
                    member.mean_total,
                    _yes_no(t, member.recognised),
                ],
                numbers=True,
            )
            row += 1

    _widths(sheet, [46, 11] + [10] * 12)
    sheet.freeze_panes = sheet.cell(_HEADER_ROW + 1, 3).coordinate
    _print_setup(sheet)


def _month_sheet(
    spec: FrameworkSpec, report: MonthReport, result: CellMonth, t: Translator, sheet: Worksheet
) -> None:
    _ = t.gettext
    title = _("Self-assessment {month}/{year}").format(month=report.month, year=report.year)
    title += " — " + report.cell_name
    if not report.confirmed:
        title += " " + _("(provisional)")
    _titles(
        sheet,
        title,
        _("Total: {total}/{max}").format(
            total=_points(t, result.total),
            max=_max_points(t, sum(g.max_points for g in result.groups)),
        )
        + " — "
        + _("Suggested classification: {label}").format(label=_level_label(spec, result.level, t)),
    )
    _header(
        sheet,
        _HEADER_ROW,
        [_("Criteria group"), _("Criterion"), _("Max points"), _("Points"), _("Notes")],
    )
    row = _HEADER_ROW + 1
    for group in result.groups:
        group_title = _group_title(spec, group.key, t)
        for criterion in (c for c in result.criteria if c.group == group.key):
            notes = []
            if criterion.missing:
                notes.append(_("no data"))
            if criterion.adjustment is not None:
                notes.append(
                    _("adjusted from {computed}: {note}").format(
                        computed=_points(t, criterion.computed_points),
                        note=criterion.adjustment.note,
                    )
                )
            _row(
                sheet,
                row,
                [
                    group_title,
                    _criterion_title(spec, criterion.key, t),
                    criterion.max_points,
                    criterion.points,
                    "; ".join(notes) or None,
                ],
                numbers=True,
            )
            row += 1
        meets = _("meets") if group.meets else _("does not meet")
        _row(
            sheet,
            row,
            [group_title, _("Group total"), group.max_points, group.points, meets],
            numbers=True,
            bold=True,
        )
        row += 1
    verdict = _("4-good month: every group meets") if result.four_good else _("Not a 4-good month")
    _row(
        sheet,
        row,
        [
            _("Total"),
            _level_label(spec, result.level, t),
            sum(g.max_points for g in result.groups),
            result.total,
            verdict,
        ],
        numbers=True,
        bold=True,
    )
    row += 1
    if report.notes and report.notes.strip():
        row += 1
        sheet.cell(row, 1, _("Meeting notes")).font = _BOLD
        sheet.cell(row, 2, report.notes.strip()).alignment = _WRAP
        row += 1
    row += 1

    if report.members:
        _header(
            sheet,
            row,
            [_("Member"), _("Progress"), _("Total"), _("Level"), _("Answers below the mark")],
        )
        row += 1
        for member in report.members:
            low = "\n".join(
                f"{question}: {answer}" + (f" — {comment}" if comment else "")
                for question, answer, comment in member.low_answers
            )
            _row(
                sheet,
                row,
                [
                    member.name,
                    _(PROGRESS_LABELS[member.progress]),
                    member.total,
                    _level_short(spec, member.level, t) if member.level else None,
                    low or None,
                ],
                numbers=True,
            )
            row += 1

    _widths(sheet, [34, 52, 11, 11, 60])
    sheet.freeze_panes = sheet.cell(_HEADER_ROW + 1, 1).coordinate
    _print_setup(sheet)


def _sheet_title(text: str, used: set[str]) -> str:
    """A valid, unused sheet name: no []:*?/\\ and at most 31 characters."""
    base = re.sub(r"[\[\]:*?/\\]", "-", text).strip("'")[:31] or "-"
    name, n = base, 2
    while name in used:
        suffix = f" ({n})"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    return name


def _titles(sheet: Worksheet, title: str, subtitle: str) -> None:
    sheet.cell(1, 1, title).font = _TITLE
    sheet.cell(2, 1, subtitle).font = Font(italic=True)


def _header(sheet: Worksheet, row: int, labels: Sequence[str]) -> None:
    for column, label in enumerate(labels, start=1):
        cell = sheet.cell(row, column, label)
        cell.font = _BOLD
        cell.fill = _HEADER_FILL
        cell.border = _BORDER
        cell.alignment = _CENTRE


def _row(
    sheet: Worksheet,
    row: int,
    values: Sequence[object],
    *,
    numbers: bool = False,
    bold: bool = False,
) -> None:
    for column, value in enumerate(values, start=1):
        cell = sheet.cell(row, column, value)
        cell.border = _BORDER
        if bold:
            cell.font = _BOLD
        if isinstance(value, float) and numbers:
            cell.number_format = _ONE_DECIMAL
        elif isinstance(value, str):
            cell.alignment = _WRAP


def _widths(sheet: Worksheet, widths: Sequence[float]) -> None:
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width


def _print_setup(sheet: Worksheet) -> None:
    sheet.page_setup.orientation = Worksheet.ORIENTATION_LANDSCAPE
    sheet.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0  # as many pages down as needed
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = f"{_HEADER_ROW}:{_HEADER_ROW}"
    sheet.print_options.horizontalCentered = True
    sheet.page_margins.left = sheet.page_margins.right = 0.5


def _yes_no(t: Translator, value: bool) -> str:
    return t.gettext("yes") if value else t.gettext("no")


# --- CSV -----------------------------------------------------------------------------------


def year_csv(spec: FrameworkSpec, report: YearReport, t: Translator) -> bytes:
    """One row per (month, group) and a total row per month with a record; UTF-8 with BOM.

    Numbers have one decimal and a dot, whatever the language.  On a total row
    "meets" says whether the month is "4 tốt" (every group meets).
    """
    _ = t.gettext
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(
        [
            _("Year"),
            _("Month"),
            _("Group"),
            _("Criteria group"),
            _("Points"),
            _("Max points"),
            _("Percent"),
            _("Meets"),
            _("Level"),
            _("Confirmed by the secretary"),
        ]
    )
    groups = _groups(spec)
    for month in report.months:
        if month is None or month.result is None:
            continue
        result = month.result
        confirmed = _yes_no(t, month.confirmed)
        for group in result.groups:
            number, group_spec = groups.get(group.key, (0, None))
            writer.writerow(
                [
                    month.year,
                    month.month,
                    number or group.key,
                    localized(group_spec.title, t.locale) if group_spec else group.key,
                    _csv_number(group.points),
                    _csv_number(group.max_points),
                    _csv_number(group.fraction * 100),
                    _yes_no(t, group.meets),
                    "",
                    confirmed,
                ]
            )
        total_max = sum(g.max_points for g in result.groups)
        writer.writerow(
            [
                month.year,
                month.month,
                _("Total"),
                _("Total"),
                _csv_number(result.total),
                _csv_number(total_max),
                _csv_number(100 * result.total / total_max if total_max else 0.0),
                _yes_no(t, result.four_good),
                _level_label(spec, result.level, t),
                confirmed,
            ]
        )
    return buffer.getvalue().encode("utf-8-sig")


def _csv_number(value: float) -> str:
    return str(_round1(value))


__all__ = [
    "EXCUSED",
    "IN_PROGRESS",
    "LEVEL_SHORT",
    "NOT_STARTED",
    "PROGRESS_LABELS",
    "SUBMITTED",
    "TELEGRAM_TEXT_LIMIT",
    "MemberLine",
    "MonthReport",
    "YearReport",
    "group_chart_png",
    "summary_text",
    "year_csv",
    "year_text",
    "year_workbook",
]
