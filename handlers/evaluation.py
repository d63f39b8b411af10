"""The secretary's summary, confirmation and yearly report; a member's own score."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from bot.core import numbers
from bot.core.chat import Button, Drawing, Outcome, Reply
from bot.core.i18n import Translator
from bot.render import reports
from bot.rules.framework import CellMetric, CriterionSource, FrameworkSpec, localized
from bot.services import evaluation, lifecycle, reporting
from bot.services.periods import Progress
from handlers.callbacks import CellFactToggle, MonthAction
from handlers.context import Turn, current_period, own_period, stale
from storage import assessments
from storage import members as member_store
from storage.frameworks import load_spec
from storage.models import Period

SHARE_METRICS = frozenset(
    {CellMetric.COMPLETION_RATE, CellMetric.ATTENDANCE_RATE, CellMetric.TASKS_ON_TIME}
)


async def summary(turn: Turn, args: list[str]) -> Outcome:
    """/summary: the month so far (provisional until confirmed), with a chart."""
    period = await current_period(turn)
    if period is None:
        return Outcome(
            [Reply(turn._("No self-assessment has been opened yet. Open one with /open."))]
        )
    return await _summary_of(turn, period)


async def _summary_of(turn: Turn, period: Period) -> Outcome:
    assert turn.member is not None
    cell = turn.member.org
    computed, report = await reporting.month_report(turn.session, period, cell, turn.t)
    previous = await reporting.previous_months(turn.session, period, cell, turn.t)
    spec = computed.spec
    text = reports.summary_text(spec, report, turn.t, previous)
    chart = partial(_draw_chart, spec, [*previous, report], turn.t)
    buttons = [
        [
            Button("📋 " + turn._("Details"), MonthAction("detail", period.id).pack()),
            Button("📥 " + turn._("Year report"), MonthAction("year", period.year).pack()),
        ]
    ]
    return Outcome(
        [
            Reply(text),
            Reply(
                "",
                buttons,
                drawing=Drawing("photo", f"chibo-{period.year}-{period.month:02d}.png", chart),
            ),
        ]
    )


async def details(turn: Turn, period: Period) -> Outcome:
    """Every criterion with its points, and what is missing or adjusted."""
    _ = turn._
    computed = await evaluation.compute(turn.session, period)
    lines = [_("Criteria of {month}/{year}").format(month=period.month, year=period.year)]
    titles = {c.key: c.title for g in computed.spec.groups for c in g.criteria}
    for criterion in computed.result.criteria:
        mark = "⚠️ " if criterion.missing and criterion.adjustment is None else ""
        line = f"{mark}{localized(titles[criterion.key], turn.t.locale)}: " + _(
            "{points} of {max}"
        ).format(
            points=turn.t.number(round(criterion.points, 1)),
            max=turn.t.number(criterion.max_points),
        )
        if criterion.adjustment is not None:
            line += " ✏️ " + criterion.adjustment.note
        elif criterion.missing:
            line += " — " + _("no data yet")
        lines.append(line)
    lines.append(
        _(
            "Adjust a cell criterion with /adjust KEY POINTS NOTE, "
            "e.g. /adjust {key} 4 the minutes are attached."
        ).format(
            key=next(
                (c.key for c in computed.result.criteria if c.source is CriterionSource.CELL),
                "g2_on_schedule",
            )
        )
    )
    return Outcome([Reply("\n".join(lines))])


async def button(turn: Turn, data: MonthAction) -> Outcome:
    """The month's buttons: details, year report, summary, checklist, confirm."""
    assert turn.member is not None
    if data.verb == "year":
        return await report(turn, [str(data.ref)])
    period = await own_period(turn, data.ref)
    if period is None:
        return stale(turn)
    if data.verb == "detail":
        return await details(turn, period)
    if data.verb == "sum":
        return await _summary_of(turn, period)
    if data.verb == "check":
        return await _checklist(turn, period, edit=False)
    return await _confirm(turn, period)


def _confirmable_from(period: Period) -> datetime:
    return period.meeting_at or period.deadline_at


async def confirm(turn: Turn, args: list[str]) -> Outcome:
    """/confirm: check the cell-level criteria, then confirm the month (it is then frozen)."""
    period = await current_period(turn)
    if period is None:
        return Outcome(
            [Reply(turn._("No self-assessment has been opened yet. Open one with /open."))]
        )
    return await _checklist(turn, period, edit=False)


async def _checklist(turn: Turn, period: Period, edit: bool) -> Outcome:
    _ = turn._
    computed = await evaluation.compute(turn.session, period)
    facts = await evaluation.facts_of(turn.session, period.id)
    lines = [
        _("Confirm the month {month}/{year}").format(month=period.month, year=period.year),
        _("Tap each cell criterion to mark it met ✅ or not ❌."),
    ]
    buttons: list[list[Button]] = []
    for group in computed.spec.groups:
        for criterion in group.criteria:
            if criterion.source is not CriterionSource.CELL:
                continue
            value = computed.metrics.get(criterion.metric) if criterion.metric else None
            if criterion.metric is not None and (value is not None or not criterion.questions):
                lines.append(
                    f"• {localized(criterion.title, turn.t.locale)}: "
                    + _metric_text(turn.t, criterion.metric, value)
                )
                continue  # a figure chibo computed; without one, the secretary's question
            for question in criterion.questions:
                answer = facts.get(question.key)
                option = question.option(answer) if answer else None
                mark = "⬜" if option is None else ("✅" if option.score >= 0.5 else "❌")
                label = f"{mark} {localized(criterion.title, turn.t.locale)}"
                buttons.append([Button(label[:60], CellFactToggle(period.id, question.key).pack())])
    result = computed.result
    band = computed.spec.scoring.band_for(result.total)
    lines.append(
        _("Total now: {total} — {level}").format(
            total=turn.t.number(round(result.total, 1)), level=localized(band.label, turn.t.locale)
        )
    )
    if computed.confirmed:
        lines.append(_("This month is confirmed. To change it, use /reopen REASON."))
        return Outcome([Reply("\n".join(lines), [], edit=edit)])
    if turn.now >= _confirmable_from(period):
        buttons.append(
            [Button("✔ " + _("Confirm the month"), MonthAction("confirm", period.id).pack())]
        )
    else:
        lines.append(
            _("You can confirm at or after the meeting ({time}).").format(
                time=turn.t.when(_confirmable_from(period))
            )
        )
    return Outcome([Reply("\n".join(lines), buttons, edit=edit)])


def _metric_text(t: Translator, metric: CellMetric, value: float | None) -> str:
    if value is None:
        return t.gettext("not recorded yet")
    if metric is CellMetric.DOCUMENTS_LEAD_HOURS:
        return t.gettext("the first document went out {hours} hours before the meeting").format(
            hours=t.number(round(value, 1))
        )
    if metric is CellMetric.RESOLUTION_TASKS:
        return "✅" if value >= 1 else "❌"
    return t.percent(value) if metric in SHARE_METRICS else t.number(value)


async def toggle_fact(turn: Turn, data: CellFactToggle) -> Outcome:
    """Cycle the secretary's answer for a cell criterion on the checklist."""
    assert turn.member is not None
    period = await own_period(turn, data.period)
    if period is None:
        return stale(turn)
    spec = await load_spec(turn.session, period.framework_id)
    question = next(  # only the secretary's questions of cell criteria (as on the checklist)
        (
            c.questions[0]
            for _, c in spec.cell_criteria()
            if c.questions and c.questions[0].key == data.key
        ),
        None,
    )
    if question is None or not question.options:
        return stale(turn)
    current = (await evaluation.facts_of(turn.session, period.id)).get(question.key)
    values = [o.value for o in question.options]
    following = (
        values[(values.index(current) + 1) % len(values)] if current in values else values[0]
    )
    try:
        await evaluation.set_fact(
            turn.session, period, turn.member, question.key, following, turn.now
        )
    except evaluation.RecordFrozen:
        return Outcome(notice=turn._("This month is confirmed. To change it, use /reopen REASON."))
    return await _checklist(turn, period, edit=True)


async def _confirm(turn: Turn, period: Period) -> Outcome:
    _ = turn._
    assert turn.member is not None
    if turn.now < _confirmable_from(period):
        return Outcome(
            notice=_("You can confirm at or after the meeting ({time}).").format(
                time=turn.t.when(_confirmable_from(period))
            )
        )
    try:
        done = await evaluation.confirm(turn.session, period, turn.member, turn.now)
    except evaluation.RecordFrozen:
        return Outcome(notice=_("This month is confirmed. To change it, use /reopen REASON."))
    band = done.spec.scoring.band_for(done.result.total)
    text = _("The month {month}/{year} is confirmed: {total} points, {level}.").format(
        month=period.month,
        year=period.year,
        total=turn.t.number(round(done.result.total, 1)),
        level=localized(band.label, turn.t.locale),
    )
    return Outcome([Reply(text, edit=True)], notice=text)


async def adjust(turn: Turn, args: list[str]) -> Outcome:
    """/adjust KEY POINTS NOTE: set a cell criterion's points, with a mandatory note."""
    _ = turn._
    assert turn.member is not None
    period = await current_period(turn)
    usage = _(
        "Use /adjust KEY POINTS NOTE, e.g. /adjust g2_on_schedule 4 the minutes are attached. "
        "The keys are listed under Details in /summary."
    )
    points = numbers.decimal(args[1]) if len(args) >= 3 else None
    if period is None or points is None:
        return Outcome([Reply(usage)])
    try:
        await evaluation.adjust(
            turn.session, period, turn.member, args[0], points, " ".join(args[2:]), turn.now
        )
    except ValueError:  # an unknown key, or points out of range (AdjustmentError)
        return Outcome([Reply(usage)])
    except evaluation.RecordFrozen:
        return Outcome([Reply(_("This month is confirmed. To change it, use /reopen REASON."))])
    return Outcome(
        [Reply(_("Adjusted {key} to {points} points.").format(key=args[0], points=args[1]))]
    )


async def notes(turn: Turn, args: list[str]) -> Outcome:
    """/notes TEXT: the meeting's notes, kept with the month's record."""
    assert turn.member is not None
    period = await current_period(turn)
    if period is None or not args:
        return Outcome([Reply(turn._("Write the notes after the command: /notes TEXT"))])
    try:
        await evaluation.set_notes(turn.session, period, turn.member, " ".join(args), turn.now)
    except evaluation.RecordFrozen:
        return Outcome(
            [Reply(turn._("This month is confirmed. To change it, use /reopen REASON."))]
        )
    return Outcome([Reply(turn._("Notes saved."))])


async def reopen(turn: Turn, args: list[str]) -> Outcome:
    """/reopen REASON: unfreeze a confirmed month; the reason is logged."""
    assert turn.member is not None
    period = await current_period(turn)
    if period is None or not args:
        return Outcome([Reply(turn._("Give the reason: /reopen REASON"))])
    if not await evaluation.reopen(turn.session, period, turn.member, " ".join(args), turn.now):
        return Outcome([Reply(turn._("This month is not confirmed."))])
    return Outcome([Reply(turn._("The month is open for changes again; the reason is logged."))])


async def report(turn: Turn, args: list[str]) -> Outcome:
    """/report [YEAR]: the year as text, chart, XLSX workbook and CSV."""
    _ = turn._
    assert turn.member is not None
    this_year = turn.now.astimezone(turn.t.zone).year
    year = numbers.year(args[0]) if args else this_year
    if year is None:
        return Outcome([Reply(_("Please give the year as four digits, e.g. /report 2026."))])
    built = await reporting.year_report(turn.session, turn.member.org, year, turn.t)
    if built is None:
        return Outcome([Reply(_("No records for {year}.").format(year=year))])
    spec, year_data = built
    recorded = [m for m in year_data.months if m is not None]
    files = [
        Drawing("photo", f"chibo-{year}.png", partial(_draw_chart, spec, recorded[-6:], turn.t)),
        *(
            Drawing(
                "document",
                f"chibo-{year}.{suffix}",
                partial(_draw_year, suffix, spec, year_data, turn.t),
            )
            for suffix in ("xlsx", "csv")
        ),
    ]
    text = Reply(reports.year_text(spec, year_data, turn.t))
    return Outcome([text, *(Reply("", drawing=file) for file in files)])


# Drawn after the turn, in the drawing thread (bot.core.chat.drawn), from plain data only;
# matplotlib and openpyxl are imported there on first use.


def _draw_chart(spec: FrameworkSpec, months: list[reports.MonthReport], t: Translator) -> bytes:
    from bot.render.charts import group_chart_png

    return group_chart_png(spec, months, t)


def _draw_year(suffix: str, spec: FrameworkSpec, data: reports.YearReport, t: Translator) -> bytes:
    from bot.render.exports import year_csv, year_workbook

    return (year_workbook if suffix == "xlsx" else year_csv)(spec, data, t)


async def my_score(turn: Turn, args: list[str]) -> Outcome:
    """/score: the member's own score for the month (nobody else's). A member who moved
    cells keeps their history: a month they submitted in their previous cell shows there."""
    _ = turn._
    assert turn.member is not None
    period = await current_period(turn)
    month = (period.year, period.month) if period is not None else None
    for row in (await member_store.history_of(turn.session, turn.member))[1:]:
        if month is not None:
            break
        earlier = await assessments.current_period(turn.session, row.org_id, turn.now)
        month = (earlier.year, earlier.month) if earlier is not None else None
    if month is None:
        return Outcome([Reply(_("No self-assessment has been opened yet."))])
    for row, month_period in await lifecycle.month_of_person(turn.session, turn.member, *month):
        computed = await evaluation.compute(turn.session, month_period)
        score = computed.member_scores.get(row.id)
        submitted = any(
            p.member.id == row.id and p.progress is Progress.SUBMITTED for p in computed.progress
        )
        if score is None or not submitted:
            continue
        band = computed.spec.scoring.band_for(score.total)
        text = _(
            "Your self-assessment {month}/{year}: {total} points, {level} "
            "(a suggestion; the cell decides)."
        ).format(
            month=month_period.month,
            year=month_period.year,
            total=turn.t.number(round(score.total, 1)),
            level=localized(band.label, turn.t.locale),
        )
        if row.id != turn.member.id:
            await turn.session.refresh(row, ["org"])
            text += "\n" + _("(submitted in {cell}, before you moved)").format(cell=row.org.name)
        return Outcome([Reply(text)])
    return Outcome(
        [
            Reply(
                _(
                    "Your score appears once you have submitted this month's "
                    "self-assessment (/assess)."
                )
            )
        ]
    )
