"""Queries on who is expected at a meeting, who attended, and who is excused."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import members
from storage.models import Attendance, Excusal, ExcusalStatus, Member, MemberStatus, Period


async def expected_members(session: AsyncSession, period: Period) -> list[Member]:
    """Members on the month's roll who were not exempt from activities then, by name."""
    query = select(Member).where(
        Member.org_id == period.cell_id,
        members.on_roll(period.id, period.deadline_at),
        members.status_at(period.deadline_at) != MemberStatus.EXEMPT,
    )
    return list(await session.scalars(query.order_by(Member.full_name, Member.id)))


async def attendance_by_member(session: AsyncSession, period_id: int) -> dict[int, Attendance]:
    query = select(Attendance).where(Attendance.period_id == period_id)
    return {a.member_id: a for a in await session.scalars(query)}


async def excused_ids(session: AsyncSession, period_id: int) -> set[int]:
    """Members whose excusal for the month was approved."""
    query = select(Excusal.member_id).where(
        Excusal.period_id == period_id, Excusal.status == ExcusalStatus.APPROVED
    )
    return set(await session.scalars(query))


async def excusal_of(session: AsyncSession, period_id: int, member_id: int) -> Excusal | None:
    query = select(Excusal).where(Excusal.period_id == period_id, Excusal.member_id == member_id)
    return await session.scalar(query)
