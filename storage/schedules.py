"""Queries the planner needs: the cells' schedules, their overrides and periods, newest members.

Each reads many cells at once in a fixed number of statements, in chunks that
stay far below the drivers' bound-parameter limits.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import chunks
from storage.models import CellSchedule, MeetingOverride, Member, Organization, Period


async def scheduled_cells(session: AsyncSession) -> list[tuple[CellSchedule, Organization]]:
    """Every cell with a regular meeting rule, with the cell."""
    query = select(CellSchedule, Organization).join(
        Organization, Organization.id == CellSchedule.cell_id
    )
    return [(schedule, cell) for schedule, cell in (await session.execute(query)).all()]


async def overrides_of(session: AsyncSession, cell_ids: list[int]) -> list[MeetingOverride]:
    found: list[MeetingOverride] = []
    for chunk in chunks(cell_ids):
        query = select(MeetingOverride).where(MeetingOverride.cell_id.in_(chunk))
        found += list(await session.scalars(query))
    return found


async def periods_since(session: AsyncSession, cell_ids: list[int], year: int) -> list[Period]:
    found: list[Period] = []
    for chunk in chunks(cell_ids):
        query = select(Period).where(Period.cell_id.in_(chunk), Period.year >= year)
        found += list(await session.scalars(query))
    return found


async def hand_opened_now(session: AsyncSession, now: datetime) -> list[Period]:
    """Periods a secretary opened by hand that are open now."""
    query = select(Period).where(
        Period.opened_by_id.is_not(None), Period.deadline_at > now, Period.opens_at <= now
    )
    return list(await session.scalars(query))


async def newest_member_at(session: AsyncSession, cell_ids: list[int]) -> dict[int, datetime]:
    """When each cell's newest member was added."""
    newest: dict[int, datetime] = {}
    for chunk in chunks(cell_ids):
        rows = await session.execute(
            select(Member.org_id, func.max(Member.created_at))
            .where(Member.org_id.in_(chunk))
            .group_by(Member.org_id)
        )
        newest |= {cell_id: at for cell_id, at in rows if at is not None}
    return newest
