"""Aggregation in SQL: answers → per-member criterion fractions → per-cell criterion means.

Every query groups inside the database (SQLite and PostgreSQL alike); Python
only receives one row per (member, criterion) or per criterion, never the
individual answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Float, and_, case, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, selectinload

from storage import members
from storage.models import (
    Answer,
    Assessment,
    AssessmentState,
    Attendance,
    Criterion,
    Excusal,
    ExcusalStatus,
    Member,
    MemberStatus,
    Period,
    Question,
    QuestionOption,
)


def _score():  # type: ignore[no-untyped-def]
    """An answer's score in SQL, as `bot.rules.scoring.answer_score`: a number v/max, else the
    chosen option's score (needs Answer, Question and the outer-joined QuestionOption)."""
    return case(
        (Question.kind == "score", cast(Answer.value, Float) / Question.max_value),
        else_=QuestionOption.score,
    )


def _scored_answers(period_ids: Sequence[int]):  # type: ignore[no-untyped-def]
    """(period, member, criterion, score) for every scored answer of submitted assessments."""
    score = _score()
    return (
        select(
            Assessment.period_id.label("period_id"),
            Assessment.member_id.label("member_id"),
            Criterion.key.label("criterion"),
            score.label("score"),
        )
        .select_from(Answer)
        .join(Assessment, Assessment.id == Answer.assessment_id)
        .join(Question, Question.id == Answer.question_id)
        .join(Criterion, Criterion.id == Question.criterion_id)
        .outerjoin(
            QuestionOption,
            and_(QuestionOption.question_id == Question.id, QuestionOption.value == Answer.value),
        )
        .where(
            Assessment.period_id.in_(period_ids),
            Assessment.state == AssessmentState.SUBMITTED,
            Answer.skipped.is_(False),
            Answer.value.is_not(None),
            Question.kind != "text",
        )
    )


def member_fractions_query(period_ids: Sequence[int]):  # type: ignore[no-untyped-def]
    scored = _scored_answers(period_ids).subquery()
    return select(
        scored.c.period_id,
        scored.c.member_id,
        scored.c.criterion,
        func.avg(scored.c.score).label("fraction"),
        func.count(scored.c.score).label("answered"),
    ).group_by(scored.c.period_id, scored.c.member_id, scored.c.criterion)


async def member_fractions(
    session: AsyncSession, period_id: int
) -> dict[int, dict[str, tuple[float, int]]]:
    """member → criterion → (mean score of their answered scored questions, their number)."""
    rows = await session.execute(member_fractions_query([period_id]))
    result: dict[int, dict[str, tuple[float, int]]] = {}
    for _period, member_id, criterion, fraction, answered in rows:
        result.setdefault(member_id, {})[criterion] = (float(fraction), int(answered))
    return result


async def cell_fractions(
    session: AsyncSession, period_ids: Sequence[int]
) -> dict[int, dict[str, float]]:
    """period → member criterion → mean over members of their criterion fractions."""
    per_member = member_fractions_query(period_ids).subquery()
    query = select(
        per_member.c.period_id, per_member.c.criterion, func.avg(per_member.c.fraction)
    ).group_by(per_member.c.period_id, per_member.c.criterion)
    result: dict[int, dict[str, float]] = {}
    for period_id, criterion, fraction in await session.execute(query):
        result.setdefault(period_id, {})[criterion] = float(fraction)
    return result


@dataclass(frozen=True)
class AttendanceCounts:
    recorded: int
    present: int
    unexcused: int


async def attendance_counts(
    session: AsyncSession, period_ids: Sequence[int]
) -> dict[int, AttendanceCounts]:
    query = (
        select(
            Attendance.period_id,
            func.count(Attendance.id),
            func.sum(case((Attendance.present.is_(True), 1), else_=0)),
            func.sum(
                case(
                    (and_(Attendance.present.is_(False), Attendance.with_reason.is_(False)), 1),
                    else_=0,
                )
            ),
        )
        .where(Attendance.period_id.in_(period_ids))
        .group_by(Attendance.period_id)
    )
    return {
        pid: AttendanceCounts(int(n), int(present or 0), int(unexcused or 0))
        for pid, n, present, unexcused in await session.execute(query)
    }


async def completion_counts(
    session: AsyncSession, period_ids: Sequence[int]
) -> dict[int, tuple[int, int]]:
    """period → (members on the month's roll who must answer, who submitted), by the rule of
    `bot.services.periods.classify`: whoever submitted counts; otherwise exempt members, members
    excused for the month and members who joined after the window opened and never
    started are excused."""
    assessment = aliased(Assessment)
    submitted = assessment.state == AssessmentState.SUBMITTED
    excused = or_(
        members.status_at(Period.deadline_at) == MemberStatus.EXEMPT,
        Excusal.id.is_not(None),
        and_(  # NULL-safe: an unknown join date is not "late"
            Member.joined_at.is_not(None),
            Member.joined_at > Period.opens_at,
            assessment.id.is_(None),
        ),
    )
    query = (
        select(
            Period.id,
            func.count(Member.id).filter(or_(submitted, ~excused)),
            func.count(Member.id).filter(submitted),
        )
        .select_from(Period)
        .join(
            Member,
            and_(Member.org_id == Period.cell_id, members.on_roll(Period.id, Period.deadline_at)),
        )
        .outerjoin(
            assessment, and_(assessment.period_id == Period.id, assessment.member_id == Member.id)
        )
        .outerjoin(
            Excusal,
            and_(
                Excusal.period_id == Period.id,
                Excusal.member_id == Member.id,
                Excusal.status == ExcusalStatus.APPROVED,
            ),
        )
        .where(Period.id.in_(period_ids))
        .group_by(Period.id)
    )
    return {pid: (int(must), int(done)) for pid, must, done in await session.execute(query)}


async def low_answers(
    session: AsyncSession, period_id: int
) -> list[tuple[int, Question, str | None, str | None]]:
    """(member, question, value, comment) for the low answers of submitted assessments:
    the rule of `bot.rules.scoring.is_low` (score below the question's `comment_below`), for
    option and number answers alike."""
    query = (
        select(Assessment.member_id, Question, Answer.value, Answer.comment)
        .select_from(Answer)
        .join(Assessment, Assessment.id == Answer.assessment_id)
        .join(Question, Question.id == Answer.question_id)
        .outerjoin(
            QuestionOption,
            and_(QuestionOption.question_id == Question.id, QuestionOption.value == Answer.value),
        )
        .where(
            Assessment.period_id == period_id,
            Assessment.state == AssessmentState.SUBMITTED,
            Answer.skipped.is_(False),
            Answer.value.is_not(None),
            Question.kind != "text",
            Question.comment_below.is_not(None),
            _score() < Question.comment_below,
        )
        .order_by(Assessment.member_id, Question.position)
        .options(selectinload(Question.options))
    )
    return [(m, q, v, c) for m, q, v, c in await session.execute(query)]


async def periods_of_year(session: AsyncSession, cell_id: int, year: int) -> list[Period]:
    query = select(Period).where(Period.cell_id == cell_id, Period.year == year)
    return list(await session.scalars(query.order_by(Period.month)))


async def unreachable_counts(session: AsyncSession, cell_ids: set[int]) -> dict[int, int]:
    query = (
        select(Member.org_id, func.count(Member.id))
        .where(Member.org_id.in_(cell_ids), Member.active.is_(True), Member.reachable.is_(False))
        .group_by(Member.org_id)
    )
    return {cell: int(n) for cell, n in await session.execute(query)}
