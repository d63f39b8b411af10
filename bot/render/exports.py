"""The year as an XLSX workbook (ready to print) and as a CSV file."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from bot.core.i18n import Translator
from bot.render.reports import (
    PROGRESS_LABELS,
    MonthReport,
    YearReport,
    criterion_title,
    group_title,
    groups,
    level_label,
    level_short,
    max_points,
    month_label,
    points,
    round1,
    verdict,
    year_reasons,
)
from bot.render.spreadsheet import csv_text, workbook_bytes
from bot.rules.framework import FrameworkSpec, localized
from bot.rules.scoring import CellMonth

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
    if report.consultations:
        name = _sheet_title(_("Consultations"), used)
        used.add(name)
        _consultation_sheet(report, t, book.create_sheet(name))
    if report.resolutions:
        name = _sheet_title(_("Resolutions and tasks"), used)
        _tasks_sheet(report, t, book.create_sheet(name))
    return workbook_bytes(book)


def _consultation_sheet(report: YearReport, t: Translator, sheet: Worksheet) -> None:
    """The year's consultations on drafts: the counts of each, then every answer."""
    _ = t.gettext
    _titles(
        sheet,
        _("Opinions on drafts {year} — {cell}").format(year=report.year, cell=report.cell_name),
        _("Members who had to answer: the roll when the draft went out (not exempt)."),
    )
    header = [
        _("No."),
        _("Month"),
        _("Draft"),
        _("Sent"),
        _("Deadline"),
        _("Members who had to answer"),
        _("Agree"),
        _("Disagree"),
        _("Other opinion"),
        _("Not answered"),
        _("Answered"),
    ]
    _header(sheet, _HEADER_ROW, header)
    row = _HEADER_ROW + 1
    for number, line in enumerate(report.consultations, 1):
        share = min(1.0, line.answered / line.roll) if line.roll else None
        draft = line.text if not line.file_name else f"{line.text} [{line.file_name}]"
        values: list[object] = [
            number,
            line.month,
            draft,
            t.when(line.created_at),
            t.when(line.deadline_at),
            line.roll,
            line.agree,
            line.disagree,
            line.other,
            max(0, line.roll - line.answered),
            share,
        ]
        _row(sheet, row, values)
        if share is not None:
            sheet.cell(row, len(values)).number_format = "0%"
        row += 1
    row += 1
    _header(sheet, row, [_("No."), _("Answer"), _("Opinion"), _("Member")])
    labels = {"agree": _("Agree"), "disagree": _("Disagree"), "other": _("Other opinion")}
    for number, line in enumerate(report.consultations, 1):
        for name, choice, comment in line.answers:
            row += 1
            _row(sheet, row, [number, labels.get(choice, choice), comment or "", name])
    _widths(sheet, [6, 14, 48, 22, 18, 12, 10, 12, 12, 12, 10])


def _tasks_sheet(report: YearReport, t: Translator, sheet: Worksheet) -> None:
    """Each month's resolution and its tasks: counts of who did them (never names or notes)."""
    _ = t.gettext
    _titles(
        sheet,
        _("Resolutions and tasks {year} — {cell}").format(year=report.year, cell=report.cell_name),
        _("Tasks done on time count toward the next month's record."),
    )
    _header(
        sheet,
        _HEADER_ROW,
        [
            _("Month"),
            _("Resolution"),
            _("No."),
            _("Task"),
            _("Due"),
            _("Assigned"),
            _("Done"),
            _("On time"),
            _("In progress"),
            _("Not able to yet"),
            _("Not reported"),
            _("Done on time (%)"),
            _("Cancelled (reason)"),
        ],
    )
    row = _HEADER_ROW + 1
    titles = dict(report.resolutions)
    with_tasks = {task.month for task in report.tasks}
    for month, title in report.resolutions:
        if month not in with_tasks:
            _row(sheet, row, [month_label(t, month), title, "", _("(no tasks)")])
            row += 1
    for task in report.tasks:
        share = task.on_time / task.assigned if task.assigned and not task.cancelled else None
        values: list[object] = [
            month_label(t, task.month),
            titles.get(task.month, task.resolution),
            task.number,
            task.description,
            task.due,
            task.assigned,
            task.done,
            task.on_time,
            task.doing,
            task.unable,
            task.assigned - task.done - task.doing - task.unable,
            share,
            task.cancelled or "",
        ]
        _row(sheet, row, values)
        sheet.cell(row, 5).number_format = "DD/MM/YYYY"
        sheet.cell(row, 12).number_format = "0%"
        row += 1
    _widths(sheet, [10, 28, 5, 40, 12, 9, 8, 9, 9, 11, 11, 11, 24])
    _print_setup(sheet)


def _year_sheet(spec: FrameworkSpec, report: YearReport, t: Translator, sheet: Worksheet) -> None:
    _ = t.gettext
    year = report.result
    _titles(
        sheet,
        _("Year {year} — {cell}").format(year=report.year, cell=report.cell_name),
        localized(spec.title, t.locale),
    )
    header = [_("Criteria group"), _("Max points")] + [month_label(t, m) for m in range(1, 13)]
    _header(sheet, _HEADER_ROW, header)
    results = [m.result if m is not None else None for m in report.months]
    row = _HEADER_ROW + 1
    for group in spec.groups:
        values: list[object] = []
        for result in results:
            found = next((g for g in result.groups if g.key == group.key), None) if result else None
            values.append(found.points if found else None)
        _row(sheet, row, [group_title(spec, group.key, t), group.weight, *values], numbers=True)
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
    levels = [level_short(spec, r.level, t) if r else None for r in results]
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
        (_("Suggested classification"), level_label(spec, year.level, t) if year.level else None),
        (
            _("Year-end suggestion"),
            f"{verdict(t, year.recognised)} ({'; '.join(year_reasons(spec, report, t))})",
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
            total=points(t, result.total),
            max=max_points(t, sum(g.max_points for g in result.groups)),
        )
        + " — "
        + _("Suggested classification: {label}").format(label=level_label(spec, result.level, t)),
    )
    _header(
        sheet,
        _HEADER_ROW,
        [_("Criteria group"), _("Criterion"), _("Max points"), _("Points"), _("Notes")],
    )
    row = _HEADER_ROW + 1
    for group in result.groups:
        title = group_title(spec, group.key, t)
        for criterion in (c for c in result.criteria if c.group == group.key):
            notes = []
            if criterion.missing:
                notes.append(_("no data"))
            if criterion.adjustment is not None:
                notes.append(
                    _("adjusted from {computed}: {note}").format(
                        computed=points(t, criterion.computed_points),
                        note=criterion.adjustment.note,
                    )
                )
            _row(
                sheet,
                row,
                [
                    title,
                    criterion_title(spec, criterion.key, t),
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
            [title, _("Group total"), group.max_points, group.points, meets],
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
            level_label(spec, result.level, t),
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
                    level_short(spec, member.level, t) if member.level else None,
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
    rows: list[list[object]] = []
    rows.append(
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
    numbered = groups(spec)
    for month in report.months:
        if month is None or month.result is None:
            continue
        result = month.result
        confirmed = _yes_no(t, month.confirmed)
        for group in result.groups:
            number, group_spec = numbered.get(group.key, (0, None))
            rows.append(
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
        rows.append(
            [
                month.year,
                month.month,
                _("Total"),
                _("Total"),
                _csv_number(result.total),
                _csv_number(total_max),
                _csv_number(100 * result.total / total_max if total_max else 0.0),
                _yes_no(t, result.four_good),
                level_label(spec, result.level, t),
                confirmed,
            ]
        )
    return csv_text(rows, lineterminator="\r\n").encode("utf-8-sig")


def _csv_number(value: float) -> str:
    return str(round1(value))


@dataclass(frozen=True)
class CellYearLine:
    """One cell's year on a committee's sheet: never a member, only the cell's months."""

    cell_name: str
    totals: Sequence[float | None]  # January first; None: no record
    four_good: Sequence[bool]  # January first
    four_good_months: int
    recognised: bool
    trend: str = ""  # ↑ ↓ → over the last three confirmed months, or ""


def committee_workbook(
    year: int,
    committee: str,
    lines: Sequence[CellYearLine],
    shares: Sequence[float | None],
    t: Translator,
) -> bytes:
    """A committee's cells × months as an XLSX sheet ready to print: each month's total
    (bold for a "4 tốt" month), the count of "4 tốt" months, the trend and the year-end
    suggestion, and under the cells the share of "4 tốt" month by month. No member."""
    _ = t.gettext
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = _sheet_title(_("Year {year}").format(year=year), set())
    _titles(
        sheet,
        _("{committee}: cells in {year}").format(committee=committee, year=year),
        _('Bold: a "4 tốt" month (every group meets); ↑ ↓ →: the last three confirmed months'),
    )
    labels = [
        _("Cell"),
        *(month_label(t, m) for m in range(1, 13)),
        _('"4 tốt" months'),
        _("Trend"),
        _("Suggested for recognition"),
    ]
    _header(sheet, _HEADER_ROW, labels)
    row = _HEADER_ROW
    for line in lines:
        row += 1
        _row(
            sheet,
            row,
            [
                line.cell_name,
                *(None if total is None else float(round1(total)) for total in line.totals),
                line.four_good_months,
                line.trend,
                _yes_no(t, line.recognised),
            ],
            numbers=True,
        )
        for index, good in enumerate(line.four_good):
            if good:
                sheet.cell(row, 2 + index).font = _BOLD
    row += 1
    _row(
        sheet,
        row,
        [_('Share of "4 tốt" cells'), *(share for share in shares), None, None, None],
        bold=True,
    )
    for index in range(12):
        sheet.cell(row, 2 + index).number_format = "0%"
    _widths(sheet, [28, *([7] * 12), 9, 8, 12])
    sheet.freeze_panes = sheet.cell(_HEADER_ROW + 1, 2)
    _print_setup(sheet)
    return workbook_bytes(book)


def committee_csv(year: int, lines: Sequence[CellYearLine], t: Translator) -> bytes:
    """A committee's cells × months: each month's total (one decimal, a dot; "4 tốt" months
    marked with *), the count of "4 tốt" months and the year-end suggestion; UTF-8 with BOM."""
    _ = t.gettext
    rows: list[list[object]] = [
        [
            _("Cell"),
            *(month_label(t, m) for m in range(1, 13)),
            _('"4 tốt" months'),
            _("Suggested for recognition"),
        ]
    ]
    for line in lines:
        rows.append(
            [
                line.cell_name,
                *(
                    "" if total is None else _csv_number(total) + ("*" if line.four_good[i] else "")
                    for i, total in enumerate(line.totals)
                ),
                line.four_good_months,
                _yes_no(t, line.recognised),
            ]
        )
    rows.append(
        [_("Year {year}").format(year=year) + "; * " + _("4-good month: every group meets")]
    )
    return csv_text(rows, lineterminator="\r\n").encode("utf-8-sig")


__all__ = ["CellYearLine", "committee_csv", "committee_workbook", "year_csv", "year_workbook"]
