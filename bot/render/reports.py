"""Reports of a cell's months and year: chat summaries, a chart, a workbook and a CSV file.

Pure rendering: the inputs are the plain dataclasses below (filled by the
aggregation queries in ``storage``), the scores come from :mod:`bot.rules.scoring`,
every word shown goes through the reader's :class:`~bot.core.i18n.Translator` and
every group title and classification label comes from the framework, in the
reader's language.  Nothing here touches the database or a chat.

* :func:`summary_text` — the secretary's month on a phone, within a chat
  message's length limit (member lists are cut with "… and N more").
* :func:`year_text` — the year in one line per month, then the year-end
  suggestion for the cell and its members.
* :mod:`bot.render.charts` and :mod:`bot.render.exports` draw the chart and write the
  workbook and CSV from the same inputs (kept apart: matplotlib and openpyxl
  are loaded only when a chart or a file is made).

Numbers are rounded only here, when they are shown: one decimal for points
(half up, as people round by hand), whole percent rounded *down* so that a
group shown at "70 %" really meets a 70 % threshold.  The workbook keeps the
exact values and formats them with one decimal; the CSV writes one decimal
with a dot (machine-readable, whatever the reader's language).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from babel.numbers import format_decimal, format_percent

from bot.core.i18n import N_, Translator
from bot.rules.framework import BandSpec, CriterionSpec, FrameworkSpec, GroupSpec, localized
from bot.rules.scoring import CellMonth, YearResult

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
BELOW = "#c0392b"  # the threshold line, and a latest share below it
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
class ConsultationLine:
    """One consultation of the year (góp ý dự thảo): its counts and every answer."""

    month: int
    text: str
    created_at: datetime
    deadline_at: datetime
    file_name: str | None
    roll: int  # members who had to answer when it went out
    agree: int
    disagree: int
    other: int
    answers: tuple[tuple[str, str, str | None], ...]  # (member, choice, comment) in order

    @property
    def answered(self) -> int:
        return self.agree + self.disagree + self.other


@dataclass(frozen=True)
class TaskRow:
    """One task of a month's resolution, as the year's workbook lists it (counts only)."""

    month: int
    resolution: str
    number: int
    description: str
    due: date  # in the cell's time zone
    assigned: int
    done: int
    on_time: int
    doing: int
    unable: int
    cancelled: str | None = None  # the reason, when cancelled


@dataclass(frozen=True)
class YearReport:
    cell_name: str
    year: int
    months: tuple[MonthReport | None, ...]  # 12 entries, January first
    result: YearResult
    member_years: tuple[tuple[str, YearResult], ...]  # (member name, their year)
    consultations: tuple[ConsultationLine, ...] = ()  # the year's drafts put to the members
    tasks: tuple[TaskRow, ...] = ()  # the resolutions' tasks, month by month
    resolutions: tuple[tuple[int, str], ...] = ()  # (month, title) of months with a resolution

    def __post_init__(self) -> None:
        if len(self.months) != 12:
            raise ValueError(f"a year has 12 months, {len(self.months)} given")


# --- formatting helpers -------------------------------------------------------------------


def round1(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def points(t: Translator, value: float) -> str:
    """Points with one decimal in the reader's locale: "78,5"."""
    return _points(t.locale, round1(value))


@lru_cache(maxsize=8192)
def _points(locale: str, rounded: Decimal) -> str:
    # Babel's formatting costs ~70 µs a number: a committee's heat map shows thousands
    return format_decimal(rounded, "#,##0.0", locale=locale)


def max_points(t: Translator, value: float) -> str:
    """A maximum without a needless decimal: "30", "2,5"."""
    return format_decimal(value, "#,##0.##", locale=t.locale)


def _percent(t: Translator, fraction: float) -> str:
    """Whole percent, rounded down so that 69.9 % never reads as the 70 % it misses."""
    whole = math.floor(fraction * 100 + 1e-9)
    return format_percent(whole / 100, locale=t.locale)


def _signed(t: Translator, before: float, now: float) -> str:
    """The change between two totals as shown (rounded first, so that the figures add up)."""
    rounded = round1(now) - round1(before)
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


def level_label(spec: FrameworkSpec, level: str | None, t: Translator) -> str:
    band = _band(spec, level)
    return localized(band.label, t.locale) if band else (level or "")


def level_short(spec: FrameworkSpec, level: str | None, t: Translator) -> str:
    if level in LEVEL_SHORT:
        return t.gettext(LEVEL_SHORT[level])
    return level_label(spec, level, t)


def groups(spec: FrameworkSpec) -> dict[str, tuple[int, GroupSpec]]:
    return {g.key: (i, g) for i, g in enumerate(spec.groups, start=1)}


def group_title(spec: FrameworkSpec, key: str, t: Translator) -> str:
    found = groups(spec).get(key)
    return f"{found[0]}. {localized(found[1].title, t.locale)}" if found else key


def _criteria(spec: FrameworkSpec) -> dict[str, CriterionSpec]:
    return {c.key: c for g in spec.groups for c in g.criteria}


def criterion_title(spec: FrameworkSpec, key: str, t: Translator) -> str:
    criterion = _criteria(spec).get(key)
    return localized(criterion.title, t.locale) if criterion else key


def month_label(t: Translator, month: int) -> str:
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
                total=points(t, result.total),
                max=max_points(t, sum(g.max_points for g in result.groups)),
            )
        )
        head.append(
            _("Suggested classification: {label}").format(label=level_label(spec, result.level, t))
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
                before=points(t, before.result.total),
                now=points(t, result.total),
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
        f"{MEETS if group.meets else FAILS} {group_title(spec, group.key, t)}: "
        f"{points(t, group.points)}/{max_points(t, group.max_points)}"
        f" ({_percent(t, group.fraction)})"
        for group in result.groups
    ]


def _data_notes(spec: FrameworkSpec, result: CellMonth, t: Translator) -> list[str]:
    lines = []
    if result.missing:
        titles = [_shorten(criterion_title(spec, k, t), 40) for k in result.missing]
        lines.append(
            "⚠️ "
            + t.ngettext(
                "No data yet for {n} criterion: {names}",
                "No data yet for {n} criteria: {names}",
                len(titles),
            ).format(n=len(titles), names=_names(t, titles, 5))
        )
    if result.adjusted:
        titles = [_shorten(criterion_title(spec, k, t), 40) for k in result.adjusted]
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
            span = month_label(t, unrecorded[0])
            if len(unrecorded) > 1:
                span += "–" + month_label(t, unrecorded[-1])
            head.append(f"{span} — " + _("no record"))
            unrecorded.clear()

    for number, month in enumerate(report.months, start=1):
        if month is None or month.result is None:
            unrecorded.append(number)
            continue
        flush()
        line = month_label(t, number)
        result = month.result
        marks = "".join(MEETS if g.meets else FAILS for g in result.groups)
        line += f" {marks} {points(t, result.total)} {level_short(spec, result.level, t)}"
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
                total=points(t, year.mean_total), label=level_label(spec, year.level, t)
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


def year_reasons(spec: FrameworkSpec, report: YearReport, t: Translator) -> list[str]:
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
                label=level_label(spec, forbid, t),
                months=", ".join(month_label(t, i + 1) for i in year.forbidden_months),
            )
        )
    return reasons


def verdict(t: Translator, recognised: bool) -> str:
    return (
        t.gettext("recognised as a 4-good cell")
        if recognised
        else t.gettext("not recognised as a 4-good cell")
    )


def _cell_verdict(spec: FrameworkSpec, report: YearReport, t: Translator) -> str:
    return t.gettext("Year-end suggestion: {verdict} ({reasons}).").format(
        verdict=verdict(t, report.result.recognised),
        reasons="; ".join(year_reasons(spec, report, t)),
    )


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
    "TaskRow",
    "YearReport",
    "summary_text",
    "year_text",
]
