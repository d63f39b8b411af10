"""Periods, assessments and answers: idempotent writes keyed by their natural keys."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from storage import members
from storage.db import dialect_insert
from storage.models import (
    Answer,
    Assessment,
    CellEvaluation,
    Criterion,
    CriterionGroup,
    Member,
    Period,
    Question,
)
from storage.records import month_confirmed


async def current_period(session: AsyncSession, cell_id: int, now: datetime) -> Period | None:
    """The cell's latest period whose window has opened."""
    query = (
        select(Period)
        .where(Period.cell_id == cell_id, Period.opens_at <= now)
        .order_by(Period.year.desc(), Period.month.desc())
    )
    return (await session.scalars(query)).first()


async def period_for_month(
    session: AsyncSession, cell_id: int, year: int, month: int
) -> Period | None:
    query = select(Period).where(
        Period.cell_id == cell_id, Period.year == year, Period.month == month
    )
    return await session.scalar(query)


async def assessment_of(session: AsyncSession, period_id: int, member_id: int) -> Assessment | None:
    query = select(Assessment).where(
        Assessment.period_id == period_id, Assessment.member_id == member_id
    )
    return await session.scalar(query)


async def get_or_create_assessment(
    session: AsyncSession, period_id: int, member_id: int, now: datetime
) -> Assessment:
    """One assessment per (period, member), even when two updates race to create it."""
    statement = (
        dialect_insert(session, Assessment)
        .values(
            period_id=period_id,
            member_id=member_id,
            state="draft",
            awaiting_comment=False,
            started_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["period_id", "member_id"])
    )
    await session.execute(statement)
    assessment = await assessment_of(session, period_id, member_id)
    assert assessment is not None
    return assessment


# The statements of a member's assessment turn, built once: a turn runs one of each at
# most, and building a statement costs more than running it on a warm connection.
_CONFIRMED = month_confirmed(Period.id).label("confirmed")
_OWN_ASSESSMENT = (
    select(Assessment, Period, _CONFIRMED)
    .join(Period, Period.id == Assessment.period_id)
    .where(Assessment.id == bindparam("assessment_id"))
    .where(Assessment.member_id == bindparam("member_id"))
)
_CURRENT_WITH_ASSESSMENT = (
    select(Period, _CONFIRMED, Assessment)
    .outerjoin(
        Assessment,
        (Assessment.period_id == Period.id) & (Assessment.member_id == bindparam("member_id")),
    )
    .where(Period.cell_id == bindparam("cell_id"), Period.opens_at <= bindparam("now"))
    .order_by(Period.year.desc(), Period.month.desc())
    .limit(1)
)
_ANSWERS = Answer.__table__.c  # Core columns: no ORM machinery for plain rows
_ANSWER_ROWS = select(_ANSWERS.question_id, _ANSWERS.value, _ANSWERS.skipped, _ANSWERS.comment)
_ANSWER_ROWS = _ANSWER_ROWS.where(_ANSWERS.assessment_id == bindparam("assessment_id"))


async def own_assessment(
    session: AsyncSession, assessment_id: int, member_id: int
) -> tuple[Assessment, Period, bool] | None:
    """The member's assessment with its period and whether the month is confirmed."""
    params = {"assessment_id": assessment_id, "member_id": member_id}
    row = (await session.execute(_OWN_ASSESSMENT, params)).first()
    return None if row is None else (row[0], row[1], bool(row[2]))


async def current_with_assessment(
    session: AsyncSession, cell_id: int, member_id: int, now: datetime
) -> tuple[Period, bool, Assessment | None] | None:
    """The cell's current period (as `current_period`), whether it is confirmed, and the
    member's assessment of it if there is one: one statement."""
    params = {"cell_id": cell_id, "member_id": member_id, "now": now}
    row = (await session.execute(_CURRENT_WITH_ASSESSMENT, params)).first()
    return None if row is None else (row[0], bool(row[1]), row[2])


async def answer_rows(
    session: AsyncSession, assessment_id: int
) -> Sequence[Row[int, str | None, bool, str | None]]:
    """(question_id, value, skipped, comment) of each answer: rows, nothing to track."""
    return (await session.execute(_ANSWER_ROWS, {"assessment_id": assessment_id})).all()


_ANSWER_FIELDS = ("assessment_id", "question_id", "value", "skipped", "comment", "answered_at")
_SAVE_ANSWER: dict[str, Any] = {}  # by dialect name, built once


def _save_answer_statement(session: AsyncSession) -> Any:
    dialect = session.get_bind().dialect.name
    statement = _SAVE_ANSWER.get(dialect)
    if statement is None:
        insert = dialect_insert(session, Answer.__table__).values(  # Core: no ORM bulk path
            {name: bindparam(name, type_=_ANSWERS[name].type) for name in _ANSWER_FIELDS}
        )
        statement = insert.on_conflict_do_update(
            index_elements=["assessment_id", "question_id"],
            set_={name: insert.excluded[name] for name in _ANSWER_FIELDS[2:]},
        )
        _SAVE_ANSWER[dialect] = statement
    return statement


async def save_answer(
    session: AsyncSession,
    assessment_id: int,
    question_id: int,
    *,
    value: str | None,
    skipped: bool,
    now: datetime,
) -> None:
    """Insert or replace the answer to one question (the comment is cleared)."""
    values = (assessment_id, question_id, value, skipped, None, now)
    params = dict(zip(_ANSWER_FIELDS, values, strict=True))
    await session.execute(_save_answer_statement(session), params)


_PROGRESS_FIELDS = ("state", "submitted_at", "updated_at", "cursor_question_id", "awaiting_comment")
_ASSESSMENTS = Assessment.__table__.c
_SAVE_PROGRESS = (
    update(cast(Table, Assessment.__table__))
    .where(_ASSESSMENTS.id == bindparam("assessment_id"))
    .values({name: bindparam(name, type_=_ASSESSMENTS[name].type) for name in _PROGRESS_FIELDS})
)


async def save_progress(session: AsyncSession, assessment: Assessment) -> None:
    """Write the assessment's flow state (state, cursor, times) with one plain UPDATE, if
    it changed: the ORM's unit of work costs more than the statement, once a turn."""
    if not session.is_modified(assessment):
        return
    params = {name: getattr(assessment, name) for name in _PROGRESS_FIELDS}
    for name, value in params.items():  # written here: nothing left for the (auto)flush
        set_committed_value(assessment, name, value)
    await session.execute(_SAVE_PROGRESS, {"assessment_id": assessment.id, **params})


async def save_comment(
    session: AsyncSession, assessment_id: int, question_id: int, comment: str
) -> bool:
    answer = await session.scalar(
        select(Answer).where(
            Answer.assessment_id == assessment_id, Answer.question_id == question_id
        )
    )
    if answer is None:
        return False
    answer.comment = comment
    return True


async def member_questions(
    session: AsyncSession, framework_id: int
) -> list[tuple[Question, CriterionGroup]]:
    """The framework's member questions in order, with options, and their group."""
    query = (
        select(Question, CriterionGroup)
        .join(Criterion, Question.criterion_id == Criterion.id)
        .join(CriterionGroup, Criterion.group_id == CriterionGroup.id)
        .where(Question.framework_id == framework_id, Criterion.source == "member")
        .order_by(CriterionGroup.position, Criterion.position, Question.position)
        .options(selectinload(Question.options))
    )
    return [(question, group) for question, group in (await session.execute(query)).all()]


async def progress_of_cell(
    session: AsyncSession, period: Period
) -> list[tuple[Member, Assessment | None, int, str]]:
    """Every member on the month's roll (`storage.members.on_roll`) with their assessment,
    answer count and status for that month."""
    counts = (
        select(Answer.assessment_id, func.count(Answer.id).label("answered"))
        .join(Assessment, Assessment.id == Answer.assessment_id)
        .where(Assessment.period_id == period.id)  # only this month's answers are counted
        .group_by(Answer.assessment_id)
        .subquery()
    )
    query = (
        select(
            Member,
            Assessment,
            func.coalesce(counts.c.answered, 0),
            members.status_at(period.deadline_at),
        )
        .select_from(Member)
        .outerjoin(
            Assessment, (Assessment.member_id == Member.id) & (Assessment.period_id == period.id)
        )
        .outerjoin(counts, counts.c.assessment_id == Assessment.id)
        .where(Member.org_id == period.cell_id, members.on_roll(period.id, period.deadline_at))
        .order_by(Member.full_name, Member.id)
    )
    return [(m, a, int(n), str(st)) for m, a, n, st in (await session.execute(query)).all()]


async def drop_unconfirmed_record(session: AsyncSession, period_id: int) -> None:
    """A month's stored result is out of date once its deadline moves later."""
    await session.execute(
        delete(CellEvaluation).where(
            CellEvaluation.period_id == period_id, CellEvaluation.confirmed_at.is_(None)
        )
    )
