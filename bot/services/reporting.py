"""The month and the year of a cell, assembled for the report renderers.

The one place that turns computed evaluations into `reports.MonthReport` and
`reports.YearReport`: the chat handlers, the scheduled notices and the CLI export
all use it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.i18n import Translator
from bot.render import reports
from bot.rules.framework import FrameworkSpec, localized
from bot.rules.scoring import YearResult, year_from_months, year_result
from bot.services import consultations, evaluation
from bot.services import tasks as task_service
from bot.services.periods import Progress
from storage import evaluation as aggregates
from storage.frameworks import load_spec
from storage.models import ConsultationChoice, Member, Organization, Period

PROGRESS_WORDS = {
    Progress.SUBMITTED: reports.SUBMITTED,
    Progress.IN_PROGRESS: reports.IN_PROGRESS,
    Progress.NOT_STARTED: reports.NOT_STARTED,
}


async def month_report(
    session: AsyncSession, period: Period, cell: Organization, t: Translator
) -> tuple[evaluation.MonthEvaluation, reports.MonthReport]:
    """Compute the month and shape it for the report renderers, in `t`'s language."""
    computed = await evaluation.compute(session, period)
    low: dict[int, list[tuple[str, str, str | None]]] = {}
    for member_id, question, value, comment in await aggregates.low_answers(session, period.id):
        option = next((o for o in question.options if o.value == value), None)
        label = localized(option.label, t.locale) if option else (value or "")
        low.setdefault(member_id, []).append((localized(question.text, t.locale), label, comment))
    lines = []
    for row in computed.progress:
        score = (
            computed.member_scores.get(row.member.id)
            if row.progress is Progress.SUBMITTED
            else None
        )
        lines.append(
            reports.MemberLine(
                name=row.member.full_name,
                progress=PROGRESS_WORDS.get(row.progress, reports.EXCUSED),
                total=score.total if score else None,
                level=score.level if score else None,
                low_answers=tuple(low.get(row.member.id, ())),
            )
        )
    record = computed.record
    return computed, reports.MonthReport(
        cell_name=cell.name,
        year=period.year,
        month=period.month,
        result=computed.result,
        members=tuple(lines),
        confirmed=computed.confirmed,
        notes=record.notes if record else None,
    )


async def previous_months(
    session: AsyncSession, period: Period, cell: Organization, t: Translator
) -> list[reports.MonthReport]:
    months = await aggregates.periods_of_year(session, cell.id, period.year)
    earlier = [p for p in months if p.month < period.month][-5:]
    return [(await month_report(session, p, cell, t))[1] for p in earlier]


async def year_report(
    session: AsyncSession, cell: Organization, year: int, t: Translator
) -> tuple[FrameworkSpec, reports.YearReport] | None:
    """The cell's twelve months, its year-end suggestion and each member's."""
    periods = await aggregates.periods_of_year(session, cell.id, year)
    if not periods:
        return None
    by_month: dict[int, reports.MonthReport] = {}
    member_months: dict[int, dict[int, evaluation.MemberScore]] = {}
    names: dict[int, str] = {}
    spec: FrameworkSpec | None = None
    for period in periods:
        computed, report = await month_report(session, period, cell, t)
        spec, by_month[period.month] = computed.spec, report
        for row in computed.progress:
            names[row.member.id] = row.member.full_name
            score = computed.member_scores.get(row.member.id)
            if score is not None and row.progress is Progress.SUBMITTED:
                member_months.setdefault(row.member.id, {})[period.month] = score
    assert spec is not None
    months = tuple(by_month.get(m) for m in range(1, 13))
    result = year_result(spec, [m.result if m else None for m in months])
    member_years = tuple(
        (
            names[member_id],
            year_from_months(
                spec,
                [
                    (s.total, s.level, s.four_good)
                    if (s := member_months.get(member_id, {}).get(m))
                    else None
                    for m in range(1, 13)
                ],
            ),
        )
        for member_id in sorted(names, key=lambda i: names[i])
    )
    lines = tuple(
        reports.ConsultationLine(
            month=line.month,
            text=line.consultation.text,
            created_at=line.consultation.created_at,
            deadline_at=line.consultation.deadline_at,
            file_name=line.consultation.file_name,
            roll=line.consultation.roll,
            agree=line.counts.get(ConsultationChoice.AGREE, 0),
            disagree=line.counts.get(ConsultationChoice.DISAGREE, 0),
            other=line.counts.get(ConsultationChoice.OTHER, 0),
            answers=tuple((m.full_name, r.choice, r.comment) for r, m in line.responses),
        )
        for line in await consultations.of_year(session, periods)
    )
    resolutions, tasks = await _year_tasks(session, periods, cell)
    return spec, reports.YearReport(
        cell.name, year, months, result, member_years, lines, tasks, resolutions
    )


async def _year_tasks(
    session: AsyncSession, periods: Sequence[Period], cell: Organization
) -> tuple[tuple[tuple[int, str], ...], tuple[reports.TaskRow, ...]]:
    """Each month's resolution and its tasks with their counts (no names, no notes)."""
    zone = ZoneInfo(cell.timezone)
    resolutions: list[tuple[int, str]] = []
    rows: list[reports.TaskRow] = []
    for period in periods:
        month = await task_service.month_tasks(session, cell.id, period.opens_at, period=period)
        if month is None:
            continue
        resolutions.append((period.month, month.resolution.title))
        for line in month.tasks:
            task, counts = line.task, line.counts
            rows.append(
                reports.TaskRow(
                    period.month,
                    month.resolution.title,
                    task.position,
                    task.description,
                    task.due_at.astimezone(zone).date(),
                    counts.assigned,
                    counts.done,
                    counts.on_time,
                    counts.doing,
                    counts.unable,
                    task.cancel_reason if task.cancelled_at is not None else None,
                )
            )
    return tuple(resolutions), tuple(rows)


@dataclass(frozen=True)
class MemberYear:
    """One member's own months (None: nothing submitted that month) and their year."""

    spec: FrameworkSpec
    months: tuple[evaluation.MemberScore | None, ...]  # January first
    result: YearResult
    opened: tuple[bool, ...]  # January first: the cell had a self-assessment that month


async def member_year(session: AsyncSession, member: Member, year: int) -> MemberYear | None:
    """The member's own scores month by month (as /score shows them), nobody else's."""
    periods = await aggregates.periods_of_year(session, member.org_id, year)
    if not periods:
        return None
    months: list[evaluation.MemberScore | None] = [None] * 12
    spec: FrameworkSpec | None = None
    for period in periods:
        spec = await load_spec(session, period.framework_id)
        fractions = (await aggregates.member_fractions(session, period.id)).get(member.id)
        if fractions:
            months[period.month - 1] = evaluation.member_score(spec, fractions)
    assert spec is not None
    result = year_from_months(
        spec, [(s.total, s.level, s.four_good) if s else None for s in months]
    )
    opened = {p.month for p in periods}
    return MemberYear(spec, tuple(months), result, tuple(m in opened for m in range(1, 13)))
