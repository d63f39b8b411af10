"""The month's meeting beyond the scores, for the web view: attendance, documents with their
read counts, consultations with their counts, the resolution's tasks with done/on-time.

Built from the services the chat's /attendance, /docs, /consult and /resolution use. With
`names` (the cell's secretary) the attendance lists each member as in the chat; without
(a committee officer) every part is counts only: no member's name, note or comment.
The result is plain data, so the page renders after the database session is closed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.i18n import Translator
from bot.services import attendance, consultations, documents, tasks
from bot.services.attendance import Mark
from storage.models import ConsultationChoice, Organization, Period

# plain symbols, not the chat's emoji: a browser without an emoji font draws those as boxes
MARKS = {Mark.PRESENT: "✓", Mark.EXCUSED: "◐", Mark.UNEXCUSED: "✗"}
TITLE_CHARS = 120  # a long document or draft title is cut on the page


@dataclass(frozen=True)
class AttendanceFacts:
    taken: bool  # the secretary has opened /attendance this month
    present: int
    expected: int
    rate: str
    with_reason: int
    without_reason: int
    people: list[tuple[str, str, str]] = field(default_factory=list)  # name, mark, label


@dataclass(frozen=True)
class Line:
    title: str
    detail: str


@dataclass(frozen=True)
class MonthFacts:
    month: int
    year: int
    attendance: AttendanceFacts
    documents: list[Line]
    consultations: list[Line]
    resolution: str | None
    tasks: list[Line]


def short(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= TITLE_CHARS else flat[: TITLE_CHARS - 1] + "…"


async def month_facts(
    session: AsyncSession, period: Period, cell: Organization, t: Translator, *, names: bool
) -> MonthFacts:
    return MonthFacts(
        period.month,
        period.year,
        await _attendance(session, period, t, names),
        await _documents(session, period, t),
        await _consultations(session, period, t),
        *(await _tasks(session, period, cell, t)),
    )


async def _attendance(
    session: AsyncSession, period: Period, t: Translator, names: bool
) -> AttendanceFacts:
    labels = {
        Mark.PRESENT: t.gettext("present"),
        Mark.EXCUSED: t.gettext("absent with reason"),
        Mark.UNEXCUSED: t.gettext("absent without reason"),
    }
    rows = await attendance.recorded(session, period)
    marked = [(m, row) for m, row in rows if row is not None]
    summary = attendance.summarize(marked)
    marks = [(m.full_name, attendance.mark_of(row)) for m, row in marked]
    people = [(name, MARKS[mark], labels[mark]) for name, mark in marks] if names else []
    return AttendanceFacts(
        bool(marked),
        summary.present,
        summary.expected,
        t.percent(summary.rate),
        summary.with_reason,
        summary.without_reason,
        people,
    )


async def _documents(session: AsyncSession, period: Period, t: Translator) -> list[Line]:
    month = await documents.of_month(session, period)
    lines = []
    for document in month.documents:
        assert document.sent_at is not None  # of_month lists sent documents only
        lines.append(
            Line(
                short(document.title),
                t.gettext("sent {time} — read by {read} of {members}").format(
                    time=t.when(document.sent_at),
                    read=month.read_counts.get(document.id, 0),
                    members=month.audiences[document.id],
                ),
            )
        )
    return lines


async def _consultations(session: AsyncSession, period: Period, t: Translator) -> list[Line]:
    return [
        Line(
            short(tally.consultation.text),
            t.gettext(
                "Agree {agree} · Disagree {disagree} · Other opinion {other} · answered "
                "{answered} of {roll}"
            ).format(
                agree=tally.count(ConsultationChoice.AGREE),
                disagree=tally.count(ConsultationChoice.DISAGREE),
                other=tally.count(ConsultationChoice.OTHER),
                answered=tally.answered,
                roll=tally.roll,
            ),
        )
        for tally in await consultations.of_period(session, period)
    ]


async def _tasks(
    session: AsyncSession, period: Period, cell: Organization, t: Translator
) -> tuple[str | None, list[Line]]:
    month = await tasks.month_tasks(session, cell.id, period.opens_at, period=period)
    if month is None:
        return None, []
    lines = []
    for line in month.tasks:
        task, counts = line.task, line.counts
        if task.cancelled_at is not None:
            detail = t.gettext("cancelled")
        else:
            detail = t.gettext(
                "due {day} — done by {done} of {assigned}, {on_time} on time"
            ).format(
                day=t.day(task.due_at),
                done=counts.done,
                assigned=counts.assigned,
                on_time=counts.on_time,
            )
        lines.append(Line(f"{task.position}. {short(task.description)}", detail))
    return short(month.resolution.title), lines
