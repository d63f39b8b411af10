"""Reports: the month's summary, the year in text, the chart, the workbook and the CSV file.

English assertions use Translator("en"): a message the catalogs do not have yet
falls back to its English msgid, so the English text is what the code wrote.
"""

from __future__ import annotations

import csv
import io
import struct
import warnings
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from bot.core.i18n import Translator
from bot.render.charts import group_chart_png
from bot.render.exports import year_csv, year_workbook
from bot.render.reports import (
    TELEGRAM_TEXT_LIMIT,
    MemberLine,
    MonthReport,
    YearReport,
    summary_text,
    year_text,
)
from bot.render.spreadsheet import FORMULA_STARTS, csv_cell
from bot.rules.framework import CriterionSource, FrameworkSpec, load_framework, localized
from bot.rules.scoring import CellMonth, YearResult, cell_month, year_result

CELL = "Chi bộ Khu phố 5, phường Hồng Gai"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def spec() -> FrameworkSpec:
    return load_framework()


@pytest.fixture(scope="module")
def en() -> Translator:
    return Translator("en")


@pytest.fixture(scope="module")
def vi() -> Translator:
    return Translator("vi")


# --- builders ----------------------------------------------------------------------------


def month_result(
    spec: FrameworkSpec,
    member: float = 0.9,
    cell: float = 1.0,
    *,
    metrics: dict[str, float | None] | None = None,
    adjustments: dict[str, Any] | None = None,
    criteria: Mapping[str, float | None] | None = None,
) -> CellMonth:
    """A cell month: members' criteria at ``member``, the secretary's facts at ``cell``,
    except the ``criteria`` given by key (None: no data)."""
    criteria = criteria or {}
    members: dict[str, Any] = {}
    facts: dict[str, float | None] = {}
    for group in spec.groups:
        for criterion in group.criteria:
            value = criteria.get(
                criterion.key, member if criterion.source is CriterionSource.MEMBER else cell
            )
            if criterion.source is CriterionSource.MEMBER:
                members[criterion.key] = value
            elif criterion.metric is None or criterion.questions:
                facts[criterion.key] = value  # the secretary's answer (a metric's fallback)
    if metrics is None:
        metrics = {"attendance_rate": 0.9, "completion_rate": 0.95}
    return cell_month(spec, members, facts, metrics, adjustments)


def group_zero(spec: FrameworkSpec, key: str) -> dict[str, float]:
    """Every criterion of one group at 0 (those filled from metrics keep their metric)."""
    group = next(g for g in spec.groups if g.key == key)
    return {c.key: 0.0 for c in group.criteria}


def good(spec: FrameworkSpec) -> CellMonth:
    result = month_result(spec)
    assert result.four_good
    return result


def weak(spec: FrameworkSpec) -> CellMonth:
    """Group 2 fails, the level stays above the forbidden one."""
    result = month_result(spec, criteria=group_zero(spec, "g2"))
    assert not result.four_good and result.level != "not_completed"
    return result


def failed(spec: FrameworkSpec) -> CellMonth:
    result = month_result(
        spec, member=0.2, cell=0.0, metrics={"attendance_rate": 0.3, "completion_rate": 0.3}
    )
    assert result.level == "not_completed"
    return result


def report(
    result: CellMonth | None,
    month: int = 11,
    members: tuple[MemberLine, ...] = (),
    confirmed: bool = True,
    notes: str | None = None,
) -> MonthReport:
    return MonthReport(CELL, 2026, month, result, members, confirmed, notes)


def year_of(
    spec: FrameworkSpec,
    results: Sequence[CellMonth | None],
    members: tuple[tuple[str, YearResult], ...] = (),
    confirmed: bool = True,
) -> YearReport:
    padded = [*results] + [None] * (12 - len(results))
    months = tuple(
        report(r, month=i, confirmed=confirmed) if r is not None else None
        for i, r in enumerate(padded, start=1)
    )
    return YearReport(CELL, 2026, months, year_result(spec, padded), members)


def group_title(spec: FrameworkSpec, index: int, locale: str) -> str:
    return localized(spec.groups[index].title, locale)


# --- the month's summary ---------------------------------------------------------------


def test_summary_marks_each_group_as_it_meets(spec: FrameworkSpec, en: Translator) -> None:
    result = weak(spec)
    text = summary_text(spec, report(result), en)
    assert {g.meets for g in result.groups} == {True, False}
    lines = text.splitlines()
    for number, group in enumerate(result.groups, start=1):
        title = f"{number}. {group_title(spec, number - 1, 'en')}:"
        [line] = [line for line in lines if title in line]
        assert line.startswith("✓ " if group.meets else "✗ "), line
    # group 2: attendance metric 4 points + self-assessment 2 × 0.95, every other criterion 0
    assert "✗ 2. Good quality of cell meetings: 5.9/30 (19%)" in lines
    assert "✗ Not a 4-good month" in lines


def test_summary_gives_the_total_and_the_band_label(
    spec: FrameworkSpec, en: Translator, vi: Translator
) -> None:
    result = good(spec)
    band = spec.scoring.band_for(result.total)
    lines = summary_text(spec, report(result), en).splitlines()
    assert f"Suggested classification: {band.label['en']}" in lines
    assert f"Total: {result.total:.1f}/100" in lines
    assert "✓ 4-good month: every group meets" in lines
    assert band.label["vi"] in summary_text(spec, report(result), vi)
    low = failed(spec)
    assert f"Suggested classification: {spec.scoring.bands[-1].label['en']}" in (
        summary_text(spec, report(low), en).splitlines()
    )


def test_summary_names_the_members_who_have_not_answered(
    spec: FrameworkSpec, en: Translator
) -> None:
    members = (
        MemberLine("Nguyễn Văn An", "submitted", 88.0, "good"),
        MemberLine("Trần Thị Bích", "in_progress", None, None),
        MemberLine("Lê Văn Cường", "not_started", None, None),
        MemberLine("Hoàng Văn Em", "excused", None, None),
    )
    lines = summary_text(spec, report(good(spec), members=members), en).splitlines()
    assert "👥 Submitted: 1 of 3, 1 excused" in lines
    assert "⬜ Not answered yet (2): Trần Thị Bích, Lê Văn Cường" in lines
    everyone = tuple(MemberLine(f"Member {i}", "submitted", 80.0, "good") for i in range(3))
    text = summary_text(spec, report(good(spec), members=everyone), en)
    assert "Not answered yet" not in text
    assert "✓ Everyone has answered." in text


def test_summary_quotes_the_low_answers_and_their_comments(
    spec: FrameworkSpec, en: Translator
) -> None:
    long_question = (
        "This month, did you strictly keep Party discipline and the State's laws, "
        "and the community rules where you live?"
    )
    members = (
        MemberLine(
            "Trần Thị Bích",
            "submitted",
            61.0,
            "completed",
            (
                ("Did you pay this month's party dues?", "No", "In hospital all month"),
                (long_question, "No", None),
            ),
        ),
        MemberLine("Nguyễn Văn An", "submitted", 95.0, "excellent"),
    )
    lines = summary_text(spec, report(good(spec), members=members), en).splitlines()
    start = lines.index("⚠️ Answers below the mark (1):")
    assert lines[start + 1] == "• Trần Thị Bích"
    assert lines[start + 2] == (
        "   – Did you pay this month's party dues? → No: “In hospital all month”"
    )
    shortened = lines[start + 3]
    assert shortened.startswith("   – This month, did you strictly keep")
    assert shortened.endswith("… → No: (No comment)")
    assert len(shortened.split(" → ")[0].removeprefix("   – ")) <= 60
    assert "Nguyễn Văn An" not in "\n".join(lines[start:])


def test_summary_marks_a_month_not_yet_confirmed_as_provisional(
    spec: FrameworkSpec, en: Translator
) -> None:
    provisional = summary_text(spec, report(good(spec), confirmed=False), en)
    confirmed = summary_text(spec, report(good(spec), confirmed=True), en)
    assert provisional.splitlines()[0] == f"📋 Self-assessment 11/2026 — {CELL} (provisional)"
    assert confirmed.splitlines()[0] == f"📋 Self-assessment 11/2026 — {CELL}"
    assert "provisional" not in confirmed


def test_summary_trend_compares_with_the_latest_earlier_month(
    spec: FrameworkSpec, en: Translator
) -> None:
    now, before, older = good(spec), weak(spec), failed(spec)
    previous = [
        report(before, month=9),
        report(older, month=8),
        report(None, month=10),  # no record: skipped
        report(older, month=12),  # later than the month reported: ignored
    ]
    text = summary_text(spec, report(now, month=11), en, previous)
    change = round(now.total, 1) - round(before.total, 1)
    assert (
        f"📈 Compared with 9/2026: +{change:.1f} ({before.total:.1f} → {now.total:.1f})"
        in text.splitlines()
    )
    assert "Compared with" not in summary_text(spec, report(now), en)


def test_summary_of_a_month_without_a_record(spec: FrameworkSpec, en: Translator) -> None:
    text = summary_text(spec, report(None), en)
    assert "No results recorded for this month." in text
    assert "✓ 1." not in text and "✗ 1." not in text
    assert "Suggested classification" not in text


def test_summary_flags_missing_data_and_adjustments(spec: FrameworkSpec, en: Translator) -> None:
    result = month_result(
        spec, criteria={"g2_minutes": None}, adjustments={"g2_prepared": (1.0, "Tài liệu gửi muộn")}
    )
    lines = summary_text(spec, report(result), en).splitlines()
    assert "⚠️ No data yet for 1 criterion: Complete minutes" in lines
    assert any(
        line.startswith("✏️ Adjusted by the secretary: Content prepared, documents sent")
        for line in lines
    )


def test_summary_of_sixty_members_fits_in_one_message(spec: FrameworkSpec, en: Translator) -> None:
    comment = "Gia đình có việc đột xuất, đồng chí xin phép vắng và sẽ báo cáo bù sau. " * 3
    question = (
        "Đồng chí có đọc, nghiên cứu tài liệu, nghị quyết được gửi trước buổi sinh hoạt không?"
    )
    members = tuple(
        MemberLine(
            f"Nguyễn Thị Phương Thảo Anh {i:02d}",
            "not_started" if i % 2 else "submitted",
            None if i % 2 else 40.0,
            None if i % 2 else "not_completed",
            () if i % 2 else ((question, "Không", comment),) * 3,
        )
        for i in range(60)
    )
    notes = "Chi bộ thống nhất phân công nhiệm vụ. " * 40
    result = good(spec)
    text = summary_text(spec, report(result, members=members, notes=notes), en)
    assert len(text.encode("utf-16-le")) // 2 <= TELEGRAM_TEXT_LIMIT  # emoji count 2
    assert "… and " in text  # a list was cut
    assert "Not answered yet (30):" in text
    assert "Answers below the mark (30):" in text
    assert "✓ 1. " in text and "Suggested classification" in text  # the head is never cut
    zalo = summary_text(spec, report(result, members=members), en, limit=2000)
    assert len(zalo) <= 2000 and "Suggested classification" in zalo
    small = summary_text(spec, report(result, members=members[:6]), en)
    assert "… and " not in small  # nothing is cut when it fits


def test_summary_is_cut_when_nothing_else_helps(spec: FrameworkSpec, en: Translator) -> None:
    huge = MonthReport("Chi bộ " * 1000, 2026, 11, good(spec), (), True)
    text = summary_text(spec, huge, en)
    assert len(text.encode("utf-16-le")) // 2 <= TELEGRAM_TEXT_LIMIT
    assert text.endswith("…")


def test_a_member_line_must_have_a_known_progress() -> None:
    with pytest.raises(ValueError, match="progress"):
        MemberLine("An", "done", None, None)


# --- the chart -------------------------------------------------------------------------------


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == PNG_SIGNATURE
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def test_chart_is_a_png_of_phone_size(spec: FrameworkSpec, vi: Translator) -> None:
    reports = [
        report(good(spec), month=5),
        report(None, month=6),  # skipped
        report(weak(spec), month=7),
        report(failed(spec), month=8),
        report(good(spec), month=9),
        report(weak(spec), month=10),
        report(good(spec), month=11, confirmed=False),
    ]
    png = group_chart_png(spec, reports, vi)
    assert png_size(png) == (900, 600)
    other = group_chart_png(spec, [report(failed(spec), month=11)], vi)
    assert png_size(other) == (900, 600)
    assert other != png  # the data is drawn


def test_chart_renders_vietnamese_without_missing_glyphs(
    spec: FrameworkSpec, vi: Translator
) -> None:
    reports = [report(weak(spec), month=10), report(good(spec), month=11)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        group_chart_png(spec, reports, vi)
    missing = [str(w.message) for w in caught if "missing from" in str(w.message)]
    assert not missing


def test_chart_without_any_record(spec: FrameworkSpec, en: Translator) -> None:
    assert png_size(group_chart_png(spec, [report(None)], en)) == (900, 600)
    assert png_size(group_chart_png(spec, [], en)) == (900, 600)


# --- the year in text ---------------------------------------------------------------------


def test_year_text_recognises_a_year_with_enough_4_good_months(
    spec: FrameworkSpec, en: Translator
) -> None:
    year = year_of(spec, [good(spec)] * 9 + [weak(spec)] * 3)
    assert year.result.recognised
    text = year_text(spec, year, en)
    assert (
        "🏅 Year-end suggestion: recognised as a 4-good cell (9/12 4-good months, 9 needed)."
        in (text.splitlines())
    )
    assert "not recognised" not in text
    assert "only a suggestion" in text
    assert "⭐ 4-good months: 9 of 12" in text


def test_year_text_says_why_a_year_is_not_recognised(spec: FrameworkSpec, en: Translator) -> None:
    short = year_of(spec, [good(spec)] * 8 + [weak(spec)] * 4)
    assert not short.result.recognised
    assert (
        "🏅 Year-end suggestion: not recognised as a 4-good cell (8/12 4-good months, 9 needed)."
        in year_text(spec, short, en).splitlines()
    )
    forbidden = year_of(spec, [good(spec)] * 2 + [failed(spec)] + [good(spec)] * 9)
    assert forbidden.result.four_good_months == 11 and not forbidden.result.recognised
    assert (
        "🏅 Year-end suggestion: not recognised as a 4-good cell (11/12 4-good months, 9 needed;"
        " months rated Did not complete tasks or lower: M3)."
        in year_text(spec, forbidden, en).splitlines()
    )


def test_year_text_has_one_compact_line_per_month(spec: FrameworkSpec, en: Translator) -> None:
    results: list[CellMonth | None] = [good(spec), weak(spec), None, None, failed(spec)]
    year = year_of(spec, results)
    lines = year_text(spec, year, en).splitlines()
    g, w, f = good(spec), weak(spec), failed(spec)
    assert (g.level, w.level, f.level) == ("excellent", "good", "not_completed")
    assert f"M1 ✓✓✓✓ {g.total:.1f} Excellent" in lines
    assert f"M2 ✓✗✓✓ {w.total:.1f} Good" in lines
    assert "M3–M4 — no record" in lines
    assert f"M5 ✗✗✗✗ {f.total:.1f} Not completed" in lines
    assert "M6–M12 — no record" in lines
    assert "3 of 12 months recorded so far." in lines


def test_year_text_lists_the_members_suggested_for_recognition(
    spec: FrameworkSpec, en: Translator
) -> None:
    yes = year_result(spec, [good(spec)] * 10)
    no = year_result(spec, [weak(spec)] * 10)
    members = (("Nguyễn Văn An", yes), ("Trần Thị Bích", no), ("Lê Văn Cường", yes))
    lines = year_text(spec, year_of(spec, [good(spec)] * 10, members), en).splitlines()
    at = lines.index("👥 Members meeting the year-end rule: 2 of 3")
    assert lines[at + 1] == "Nguyễn Văn An, Lê Văn Cường"
    many = tuple((f"Đảng viên số {i:03d} thôn Đồng Tâm", yes) for i in range(300))
    text = year_text(spec, year_of(spec, [good(spec)] * 10, many), en)
    assert len(text) <= TELEGRAM_TEXT_LIMIT and "… and " in text


def test_a_year_has_twelve_months(spec: FrameworkSpec) -> None:
    result = year_result(spec, [])
    with pytest.raises(ValueError, match="12 months"):
        YearReport(CELL, 2026, (None,) * 11, result, ())


# --- the workbook ---------------------------------------------------------------------------


def open_book(data: bytes) -> Any:
    return load_workbook(io.BytesIO(data))


def find_row(sheet: Worksheet, label: str, column: int = 1) -> int:
    for row in range(1, sheet.max_row + 1):
        if sheet.cell(row, column).value == label:
            return row
    raise AssertionError(f"no row {label!r} in {sheet.title}")


def sample_year(spec: FrameworkSpec) -> tuple[YearReport, list[CellMonth | None]]:
    results: list[CellMonth | None] = [good(spec), weak(spec), None, failed(spec)]
    results += [good(spec)] * 5
    adjusted = month_result(
        spec, criteria={"g2_minutes": None}, adjustments={"g2_prepared": (1.0, "Tài liệu gửi muộn")}
    )
    results.append(adjusted)
    members = (
        MemberLine("Nguyễn Văn An", "submitted", 88.4, "good"),
        MemberLine(
            "Trần Thị Bích",
            "submitted",
            42.0,
            "not_completed",
            (("Did you pay this month's party dues?", "No", "In hospital"),),
        ),
        MemberLine("Lê Văn Cường", "not_started", None, None),
    )
    months = [
        MonthReport(CELL, 2026, i, r, members, i != 10, "Họp đủ" if i == 10 else None)
        if r is not None
        else None
        for i, r in enumerate([*results, None, None], start=1)
    ]
    member_years = (
        ("Nguyễn Văn An", year_result(spec, [good(spec)] * 10)),
        ("Trần Thị Bích", year_result(spec, [weak(spec), None, failed(spec)])),
    )
    year = YearReport(CELL, 2026, tuple(months), year_result(spec, results), member_years)
    return year, [*results, None, None]


def test_workbook_has_the_year_sheet_then_one_sheet_per_recorded_month(
    spec: FrameworkSpec, en: Translator
) -> None:
    year, results = sample_year(spec)
    book = open_book(year_workbook(spec, year, en))
    recorded = [i for i, r in enumerate(results, start=1) if r is not None]
    assert book.sheetnames == ["Year 2026"] + [f"Month {m}" for m in recorded]
    sheet = book["Year 2026"]
    assert sheet["A1"].value == f"Year 2026 — {CELL}"
    assert sheet["A4"].value == "Criteria group" and sheet["A4"].font.bold
    assert [sheet.cell(4, c).value for c in range(3, 15)] == [f"M{m}" for m in range(1, 13)]


def test_workbook_year_sheet_holds_the_cell_month_results(
    spec: FrameworkSpec, en: Translator
) -> None:
    year, results = sample_year(spec)
    sheet = open_book(year_workbook(spec, year, en))["Year 2026"]
    total = find_row(sheet, "Total")
    totals = [sheet.cell(total, c).value for c in range(3, 15)]
    # the XML keeps 15 significant digits
    assert totals == [pytest.approx(r.total, rel=1e-12) if r else None for r in results]
    assert sheet.cell(total, 2).value == 100
    assert sheet.cell(total, 3).number_format == "0.0"
    for index, group in enumerate(spec.groups):
        row = find_row(sheet, f"{index + 1}. {localized(group.title, 'en')}")
        assert [sheet.cell(row, c).value for c in range(3, 15)] == [
            pytest.approx(r.group(group.key).points, rel=1e-12) if r else None for r in results
        ]
    good_row = find_row(sheet, "4-good month")
    assert [sheet.cell(good_row, c).value for c in range(3, 15)] == [
        ("yes" if r.four_good else "no") if r is not None else None for r in results
    ]
    verdict = sheet.cell(find_row(sheet, "Year-end suggestion"), 2).value
    assert verdict.startswith("not recognised as a 4-good cell (7/12 4-good months, 9 needed")
    member_header = find_row(sheet, "Member")
    assert [sheet.cell(member_header + 1, c).value for c in range(1, 6)] == [
        "Nguyễn Văn An",
        10,
        10,
        pytest.approx(year.member_years[0][1].mean_total),
        "yes",
    ]
    assert sheet.cell(member_header + 2, 5).value == "no"


def test_workbook_month_sheet_lists_criteria_and_members(
    spec: FrameworkSpec, en: Translator
) -> None:
    year, results = sample_year(spec)
    sheet = open_book(year_workbook(spec, year, en))["Month 10"]
    result = results[9]
    assert result is not None
    assert sheet["A1"].value == f"Self-assessment 10/2026 — {CELL} (provisional)"
    titles = {c.key: localized(c.title, "en") for g in spec.groups for c in g.criteria}
    rows = {
        sheet.cell(r, 2).value: r
        for r in range(5, sheet.max_row + 1)
        if sheet.cell(r, 2).value in titles.values()
    }
    assert len(rows) == len(result.criteria)
    for criterion in result.criteria:
        row = rows[titles[criterion.key]]
        assert sheet.cell(row, 3).value == criterion.max_points
        assert sheet.cell(row, 4).value == pytest.approx(criterion.points)
    assert sheet.cell(rows[titles["g2_minutes"]], 5).value == "no data"
    assert sheet.cell(rows[titles["g2_prepared"]], 5).value == (
        "adjusted from 2.0: Tài liệu gửi muộn"
    )
    assert sheet.cell(find_row(sheet, "Total"), 4).value == pytest.approx(result.total)
    member = find_row(sheet, "Trần Thị Bích")
    assert sheet.cell(member, 2).value == "submitted"
    assert sheet.cell(member, 5).value == "Did you pay this month's party dues?: No — In hospital"
    assert sheet.cell(find_row(sheet, "Lê Văn Cường"), 2).value == "not started"


def test_workbook_prints_landscape_one_page_wide(spec: FrameworkSpec, vi: Translator) -> None:
    year, results = sample_year(spec)
    book = open_book(year_workbook(spec, year, vi))
    assert len(book.worksheets) == 1 + sum(r is not None for r in results) == 10
    for sheet in book.worksheets:
        assert sheet.page_setup.orientation == "landscape", sheet.title
        assert int(sheet.page_setup.paperSize) == 9  # A4
        assert int(sheet.page_setup.fitToWidth) == 1
        assert int(sheet.page_setup.fitToHeight) == 0
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        assert sheet.print_title_rows == "$4:$4"
        assert sheet.freeze_panes is not None
        assert sheet.column_dimensions["A"].width >= 30
        assert CELL in sheet["A1"].value
        assert "2026" in sheet["A1"].value


# --- CSV ------------------------------------------------------------------------------------


def test_csv_is_utf8_with_bom_one_row_per_month_and_group(
    spec: FrameworkSpec, en: Translator, vi: Translator
) -> None:
    year, results = sample_year(spec)
    data = year_csv(spec, year, en)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == [
        "Year",
        "Month",
        "Group",
        "Criteria group",
        "Points",
        "Max points",
        "Percent",
        "Meets",
        "Level",
        "Confirmed by the secretary",
    ]
    recorded = [(i, r) for i, r in enumerate(results, start=1) if r is not None]
    assert len(rows) == 1 + len(recorded) * (len(spec.groups) + 1)
    body = iter(rows[1:])
    for month, result in recorded:
        for number, group in enumerate(result.groups, start=1):
            row = next(body)
            assert row[:4] == ["2026", str(month), str(number), group_title(spec, number - 1, "en")]
            assert row[4] == f"{group.points:.1f}"
            assert row[7] == ("yes" if group.meets else "no")
        total = next(body)
        assert total[2] == "Total" and total[4] == f"{result.total:.1f}"
        assert total[7] == ("yes" if result.four_good else "no")
        assert total[8] == spec.scoring.band_for(result.total).label["en"]
        assert total[9] == ("no" if month == 10 else "yes")
    text = year_csv(spec, year, vi).decode("utf-8-sig")
    assert "Thi đua, hoàn thành tốt nhiệm vụ" in text
    assert "Hoàn thành xuất sắc nhiệm vụ" in text or "Hoàn thành tốt nhiệm vụ" in text


# --- formula injection ----------------------------------------------------------------------

EVIL = '=HYPERLINK("http://evil.example/","Bấm")'
RISKY = (EVIL, "+84 912 000 000", "-1+2", "@SUM(A1:A9)", "\t=1+1", "\r=1+1")


def risky_year(spec: FrameworkSpec) -> tuple[FrameworkSpec, YearReport]:
    """The sample year with formula-like member names, notes, comments and a group title."""
    year, _ = sample_year(spec)
    members = tuple(
        MemberLine(name, "submitted", 50.0, "good", (("Q", "No", RISKY[2]),)) for name in RISKY
    )
    months = tuple(
        replace(m, members=members, notes=RISKY[3]) if m is not None else None for m in year.months
    )
    member_years = tuple((name, year.member_years[0][1]) for name in RISKY)
    risky = replace(year, cell_name=RISKY[4], months=months, member_years=member_years)
    groups = list(spec.groups)
    groups[0] = groups[0].model_copy(update={"title": {"vi": EVIL, "en": EVIL}})
    return spec.model_copy(update={"groups": groups}), risky


def test_workbook_stores_formula_like_text_as_text(spec: FrameworkSpec, en: Translator) -> None:
    evil_spec, year = risky_year(spec)
    data = year_workbook(evil_spec, year, en)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        assert sheets and not any(b"<f>" in archive.read(n) for n in sheets)
    book = open_book(data)
    seen: set[str] = set()
    numbers = 0
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f"
                if isinstance(cell.value, str) and cell.value.startswith(FORMULA_STARTS):
                    assert cell.data_type == "s" and cell.quotePrefix, cell.value
                    seen.add(cell.value)
                numbers += isinstance(cell.value, int | float)
    assert {EVIL, RISKY[1], RISKY[3]} <= seen  # names and notes kept intact, as text
    assert numbers > 50  # points stay numbers


def test_csv_neutralises_formula_like_text_but_not_numbers(
    spec: FrameworkSpec, en: Translator
) -> None:
    evil_spec, year = risky_year(spec)
    rows = list(csv.reader(io.StringIO(year_csv(evil_spec, year, en).decode("utf-8-sig"))))
    titles = {row[3] for row in rows[1:]}
    assert "'" + EVIL in titles and EVIL not in titles
    for row in rows:
        for field in row:
            assert not field.startswith(FORMULA_STARTS), field
    assert all(float(row[4]) >= 0 for row in rows[1:])
    assert [csv_cell(v) for v in ("-2.5", "+3", 7, -1.5, "-2+3", "=1", "a=b")] == [
        "-2.5",
        "+3",
        7,
        -1.5,
        "'-2+3",
        "'=1",
        "a=b",
    ]
