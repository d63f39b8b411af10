"""Queries on consultations (drafts put to a cell's members) and their answers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import dialect_insert
from storage.models import Consultation, ConsultationResponse, Member, Period


async def of_cell(
    session: AsyncSession, consultation_id: int, cell_id: int
) -> tuple[Consultation, Period] | None:
    """The consultation and its month, if it belongs to this cell (else None: forged or foreign)."""
    query = (
        select(Consultation, Period)
        .join(Period, Period.id == Consultation.period_id)
        .where(Consultation.id == consultation_id, Period.cell_id == cell_id)
    )
    row = (await session.execute(query)).first()
    return (row[0], row[1]) if row is not None else None


async def recent(
    session: AsyncSession, cell_id: int, since: datetime, limit: int
) -> list[Consultation]:
    """The cell's consultations still open or closed after `since`, newest first."""
    query = (
        select(Consultation)
        .join(Period, Period.id == Consultation.period_id)
        .where(Period.cell_id == cell_id, Consultation.deadline_at >= since)
        .order_by(Consultation.deadline_at.desc(), Consultation.id.desc())
        .limit(limit)
    )
    return list(await session.scalars(query))


async def in_periods(session: AsyncSession, period_ids: Sequence[int]) -> list[Consultation]:
    """The consultations of these months, oldest deadline first."""
    if not period_ids:
        return []
    query = select(Consultation).where(Consultation.period_id.in_(period_ids))
    return list(await session.scalars(query.order_by(Consultation.deadline_at, Consultation.id)))


async def count_open(session: AsyncSession, cell_id: int, now: datetime) -> int:
    query = (
        select(func.count(Consultation.id))
        .join(Period, Period.id == Consultation.period_id)
        .where(Period.cell_id == cell_id, Consultation.deadline_at > now)
    )
    return int(await session.scalar(query) or 0)


async def answer(
    session: AsyncSession,
    consultation_id: int,
    member_id: int,
    choice: str,
    comment: str | None,
    now: datetime,
) -> None:
    """Record the member's answer; a later answer replaces the earlier one (one row each)."""
    statement = dialect_insert(session, ConsultationResponse).values(
        consultation_id=consultation_id,
        member_id=member_id,
        choice=choice,
        comment=comment,
        answered_at=now,
    )
    statement = statement.on_conflict_do_update(
        index_elements=["consultation_id", "member_id"],
        set_={"choice": choice, "comment": comment, "answered_at": now},
    )
    await session.execute(statement)


async def response_of(
    session: AsyncSession, consultation_id: int, member_id: int
) -> ConsultationResponse | None:
    query = select(ConsultationResponse).where(
        ConsultationResponse.consultation_id == consultation_id,
        ConsultationResponse.member_id == member_id,
    )
    return await session.scalar(query)


async def responses_by(
    session: AsyncSession, consultation_ids: Sequence[int], member_id: int
) -> dict[int, ConsultationResponse]:
    """consultation → this member's answer."""
    if not consultation_ids:
        return {}
    query = select(ConsultationResponse).where(
        ConsultationResponse.consultation_id.in_(consultation_ids),
        ConsultationResponse.member_id == member_id,
    )
    return {r.consultation_id: r for r in await session.scalars(query)}


async def responses(
    session: AsyncSession, consultation_id: int
) -> list[tuple[ConsultationResponse, Member]]:
    """Every answer with its author, in the order they came."""
    query = (
        select(ConsultationResponse, Member)
        .join(Member, Member.id == ConsultationResponse.member_id)
        .where(ConsultationResponse.consultation_id == consultation_id)
        .order_by(ConsultationResponse.answered_at, ConsultationResponse.id)
    )
    return [(response, member) for response, member in (await session.execute(query)).all()]


async def choice_counts(
    session: AsyncSession, consultation_ids: Sequence[int]
) -> dict[int, dict[str, int]]:
    """consultation → choice → how many members gave it."""
    if not consultation_ids:
        return {}
    query = (
        select(
            ConsultationResponse.consultation_id,
            ConsultationResponse.choice,
            func.count(ConsultationResponse.id),
        )
        .where(ConsultationResponse.consultation_id.in_(consultation_ids))
        .group_by(ConsultationResponse.consultation_id, ConsultationResponse.choice)
    )
    counts: dict[int, dict[str, int]] = {}
    for consultation_id, choice, n in await session.execute(query):
        counts.setdefault(consultation_id, {})[choice] = int(n)
    return counts


async def answered_member_ids(session: AsyncSession, consultation_id: int) -> set[int]:
    query = select(ConsultationResponse.member_id).where(
        ConsultationResponse.consultation_id == consultation_id
    )
    return set(await session.scalars(query))


async def answer_rates(
    session: AsyncSession, period_ids: Sequence[int]
) -> dict[int, list[tuple[int, int]]]:
    """period → (members who answered, roll) of each of its consultations."""
    if not period_ids:
        return {}
    answered = (
        select(
            ConsultationResponse.consultation_id.label("cid"),
            func.count(ConsultationResponse.id).label("n"),
        )
        .group_by(ConsultationResponse.consultation_id)
        .subquery()
    )
    query = (
        select(Consultation.period_id, func.coalesce(answered.c.n, 0), Consultation.roll)
        .outerjoin(answered, answered.c.cid == Consultation.id)
        .where(Consultation.period_id.in_(period_ids))
        .order_by(Consultation.id)
    )
    rates: dict[int, list[tuple[int, int]]] = {}
    for period_id, n, roll in await session.execute(query):
        rates.setdefault(period_id, []).append((int(n), int(roll)))
    return rates


async def due_reminders(session: AsyncSession, now: datetime, limit: int) -> list[Consultation]:
    """Open consultations whose reminder time has come and was not planned yet."""
    query = select(Consultation).where(
        Consultation.reminded_at.is_(None),
        Consultation.remind_at <= now,
        Consultation.deadline_at > now,
    )
    return list(await session.scalars(query.order_by(Consultation.id).limit(limit)))


async def due_tallies(session: AsyncSession, now: datetime, limit: int) -> list[Consultation]:
    """Consultations whose deadline has passed and whose tally was not planned yet."""
    query = select(Consultation).where(
        Consultation.tallied_at.is_(None), Consultation.deadline_at <= now
    )
    return list(await session.scalars(query.order_by(Consultation.id).limit(limit)))
