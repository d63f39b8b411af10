"""Queries on meetings: a month's override of the rule, and members' RSVPs."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import MeetingOverride, Rsvp


async def override_for(
    session: AsyncSession, cell_id: int, year: int, month: int
) -> MeetingOverride | None:
    """The cell's moved or skipped meeting of that month, if any."""
    query = select(MeetingOverride).where(
        MeetingOverride.cell_id == cell_id,
        MeetingOverride.year == year,
        MeetingOverride.month == month,
    )
    return await session.scalar(query)


async def rsvp_of(session: AsyncSession, period_id: int, member_id: int) -> Rsvp | None:
    query = select(Rsvp).where(Rsvp.period_id == period_id, Rsvp.member_id == member_id)
    return await session.scalar(query)


async def rsvps_by_member(session: AsyncSession, period_id: int) -> dict[int, Rsvp]:
    query = select(Rsvp).where(Rsvp.period_id == period_id)
    return {r.member_id: r for r in await session.scalars(query)}
