"""Stored monthly records of cells (`CellEvaluation`) and the secretary's cell facts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import ColumnElement, Exists, and_, exists, select
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


class PeriodFigures(NamedTuple):
    """A period's keys and, for a closed month with a stored record, its figures (a named
    tuple: a province's year is 24,000 of them, and a frozen dataclass costs ten times as
    much to build)."""

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
    # "closed" and "confirmed" are worked out by the database, and the rows are read as Core
    # rows: decoding 48,000 timestamps and the ORM's row loading took longer than the query
    closed = and_(Period.deadline_at <= now, CellEvaluation.total.is_not(None))
    for chunk in chunks(cell_ids):
        query = (
            select(
                Period.id,
                Period.cell_id,
                Period.month,
                Period.framework_id,
                closed,
                CellEvaluation.total,
                CellEvaluation.level,
                CellEvaluation.four_good,
                CellEvaluation.confirmed_at.is_not(None),
            )
            .outerjoin(CellEvaluation, CellEvaluation.period_id == Period.id)
            .where(Period.cell_id.in_(chunk), Period.year == year)
        )
        connection = await session.connection()  # Core rows: the ORM's loading is not needed
        for (
            pid,
            cell_id,
            month,
            framework,
            done,
            total,
            level,
            good,
            confirmed,
        ) in await connection.execute(query):
            stored = (total, level, good) if done else None
            found.append(PeriodFigures(pid, cell_id, month, framework, stored, bool(confirmed)))
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
