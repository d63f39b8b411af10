"""Stored monthly records of cells (`CellEvaluation`) and the secretary's cell facts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Exists, exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from storage.db import chunks
from storage.models import CellEvaluation, CellFact, Period


def month_confirmed(period_id: ColumnElement[int] | InstrumentedAttribute[int] | int) -> Exists:
    """The one definition of a frozen month: its record is confirmed."""
    return exists().where(
        CellEvaluation.period_id == period_id, CellEvaluation.confirmed_at.is_not(None)
    )


async def is_confirmed(session: AsyncSession, period_id: int) -> bool:
    return bool(await session.scalar(select(month_confirmed(period_id))))


async def record_of(session: AsyncSession, period_id: int) -> CellEvaluation | None:
    return await session.scalar(select(CellEvaluation).where(CellEvaluation.period_id == period_id))


async def records_of(session: AsyncSession, period_ids: Sequence[int]) -> dict[int, CellEvaluation]:
    """Stored monthly records by period id."""
    found: dict[int, CellEvaluation] = {}
    for chunk in chunks(period_ids):
        query = select(CellEvaluation).where(CellEvaluation.period_id.in_(chunk))
        found |= {r.period_id: r for r in await session.scalars(query)}
    return found


async def figures_of(
    session: AsyncSession, period_ids: Sequence[int]
) -> dict[int, tuple[float, str, bool]]:
    """(total, level, "4 tốt") of the stored records, without loading whole rows."""
    found: dict[int, tuple[float, str, bool]] = {}
    for chunk in chunks(period_ids):
        rows = await session.execute(
            select(
                CellEvaluation.period_id,
                CellEvaluation.total,
                CellEvaluation.level,
                CellEvaluation.four_good,
            ).where(CellEvaluation.period_id.in_(chunk))
        )
        found |= {pid: (total, level, four_good) for pid, total, level, four_good in rows}
    return found


@dataclass(frozen=True)
class PeriodFigures:
    """A period's keys and, for a closed month with a stored record, its figures."""

    period_id: int
    cell_id: int
    month: int
    framework_id: int
    stored: tuple[float, str, bool] | None  # (total, level, "4 tốt"); None: compute it
    confirmed: bool  # the secretary confirmed the month


async def year_figures(
    session: AsyncSession, cell_ids: Sequence[int], year: int, now: datetime
) -> list[PeriodFigures]:
    """The cells' periods of a year as plain rows (no ORM objects: a province has tens of
    thousands), each closed month with the figures of its stored record."""
    found: list[PeriodFigures] = []
    for chunk in chunks(cell_ids):
        query = (
            select(
                Period.id,
                Period.cell_id,
                Period.month,
                Period.framework_id,
                Period.deadline_at,
                CellEvaluation.total,
                CellEvaluation.level,
                CellEvaluation.four_good,
                CellEvaluation.confirmed_at,
            )
            .outerjoin(CellEvaluation, CellEvaluation.period_id == Period.id)
            .where(Period.cell_id.in_(chunk), Period.year == year)
        )
        for row in await session.execute(query):
            pid, cell_id, month, framework_id, deadline, total, level, four_good, confirmed = row
            closed = deadline <= now and total is not None
            stored = (total, level, four_good) if closed else None
            found.append(
                PeriodFigures(pid, cell_id, month, framework_id, stored, confirmed is not None)
            )
    return found


async def unrecorded_closed_periods(
    session: AsyncSession, now: datetime, limit: int
) -> list[Period]:
    """Periods past their deadline that have no stored record yet, oldest first."""
    query = (
        select(Period)
        .outerjoin(CellEvaluation, CellEvaluation.period_id == Period.id)
        .where(Period.deadline_at <= now, CellEvaluation.id.is_(None))
        .order_by(Period.deadline_at)
        .limit(limit)
    )
    return list(await session.scalars(query))


async def fact_of(session: AsyncSession, period_id: int, question_key: str) -> CellFact | None:
    query = select(CellFact).where(
        CellFact.period_id == period_id, CellFact.question_key == question_key
    )
    return await session.scalar(query)


async def facts_of(session: AsyncSession, period_ids: Sequence[int]) -> dict[int, dict[str, str]]:
    """The secretary's answers to cell criteria, by period id and question key."""
    facts: dict[int, dict[str, str]] = {}
    for fact in await session.scalars(select(CellFact).where(CellFact.period_id.in_(period_ids))):
        facts.setdefault(fact.period_id, {})[fact.question_key] = fact.value
    return facts
