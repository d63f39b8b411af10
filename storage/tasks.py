"""Queries on resolutions, their tasks and the members' reports on them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Member,
    Period,
    Resolution,
    ResolutionTask,
    TaskAssignment,
    TaskStatus,
)


async def resolution_of(session: AsyncSession, period_id: int) -> Resolution | None:
    return await session.scalar(select(Resolution).where(Resolution.period_id == period_id))


async def latest_resolution(
    session: AsyncSession, cell_id: int, now: datetime
) -> tuple[Resolution, Period] | None:
    """The cell's most recent resolution of a month that has opened."""
    query = (
        select(Resolution, Period)
        .join(Period, Period.id == Resolution.period_id)
        .where(Period.cell_id == cell_id, Period.opens_at <= now)
        .order_by(Period.year.desc(), Period.month.desc())
        .limit(1)
    )
    row = (await session.execute(query)).first()
    return (row[0], row[1]) if row is not None else None


async def tasks_of(session: AsyncSession, resolution_id: int) -> list[ResolutionTask]:
    query = select(ResolutionTask).where(ResolutionTask.resolution_id == resolution_id)
    return list(await session.scalars(query.order_by(ResolutionTask.position)))


async def task_in_cell(
    session: AsyncSession, task_id: int, cell_id: int
) -> tuple[ResolutionTask, Resolution, Period] | None:
    """The task, its resolution and month, if it belongs to this cell (else None: forged)."""
    query = (
        select(ResolutionTask, Resolution, Period)
        .join(Resolution, Resolution.id == ResolutionTask.resolution_id)
        .join(Period, Period.id == Resolution.period_id)
        .where(ResolutionTask.id == task_id, Period.cell_id == cell_id)
    )
    row = (await session.execute(query)).first()
    return (row[0], row[1], row[2]) if row is not None else None


@dataclass(frozen=True)
class Assigned:
    """A member's assignment with its task, resolution and month."""

    assignment: TaskAssignment
    task: ResolutionTask
    resolution: Resolution
    period: Period


def _assigned_query():  # type: ignore[no-untyped-def]
    return (
        select(TaskAssignment, ResolutionTask, Resolution, Period)
        .join(ResolutionTask, ResolutionTask.id == TaskAssignment.task_id)
        .join(Resolution, Resolution.id == ResolutionTask.resolution_id)
        .join(Period, Period.id == Resolution.period_id)
    )


async def own_assignment(
    session: AsyncSession, assignment_id: int, member_id: int
) -> Assigned | None:
    """The member's own assignment (None for another member's id or a forged one)."""
    query = _assigned_query().where(
        TaskAssignment.id == assignment_id, TaskAssignment.member_id == member_id
    )
    row = (await session.execute(query)).first()
    return Assigned(*row) if row is not None else None


async def assignments_in_range(
    session: AsyncSession,
    member_id: int,
    period_id: int,
    first: int,
    last: int,
    *,
    without: int | None = None,
    cancelled: bool = False,
) -> list[Assigned]:
    """The member's assignments to the month's tasks with ids first..last, by number:
    not cancelled (unless ``cancelled``), nor ``without``."""
    query = _assigned_query().where(
        TaskAssignment.member_id == member_id,
        Resolution.period_id == period_id,
        ResolutionTask.id.between(first, last),
    )
    if not cancelled:
        query = query.where(ResolutionTask.cancelled_at.is_(None))
    if without is not None:
        query = query.where(ResolutionTask.id != without)
    query = query.order_by(ResolutionTask.position)
    return [Assigned(*row) for row in await session.execute(query)]


async def assignments_of_member(
    session: AsyncSession, member_id: int, *, period_id: int | None = None
) -> list[Assigned]:
    """The member's assignments (of one month's resolution, or all), not cancelled,
    soonest due first."""
    query = _assigned_query().where(
        TaskAssignment.member_id == member_id, ResolutionTask.cancelled_at.is_(None)
    )
    if period_id is not None:
        query = query.where(Resolution.period_id == period_id)
    query = query.order_by(ResolutionTask.due_at, ResolutionTask.position)
    return [Assigned(*row) for row in await session.execute(query)]


async def assignments_of_task(
    session: AsyncSession, task_id: int
) -> list[tuple[TaskAssignment, Member]]:
    query = (
        select(TaskAssignment, Member)
        .join(Member, Member.id == TaskAssignment.member_id)
        .where(TaskAssignment.task_id == task_id)
        .order_by(Member.full_name, Member.id)
    )
    return [(a, m) for a, m in await session.execute(query)]


@dataclass(frozen=True)
class TaskCounts:
    assigned: int = 0
    acknowledged: int = 0
    done: int = 0
    on_time: int = 0
    doing: int = 0
    unable: int = 0
    reported: int = 0


async def counts_by_task(session: AsyncSession, task_ids: Sequence[int]) -> dict[int, TaskCounts]:
    if not task_ids:
        return {}
    a = TaskAssignment
    on_time = (a.status == TaskStatus.DONE) & (a.done_at <= ResolutionTask.due_at)
    query = (
        select(
            a.task_id,
            func.count(a.id),
            func.count(a.acknowledged_at),
            func.sum(case((a.status == TaskStatus.DONE, 1), else_=0)),
            func.sum(case((on_time, 1), else_=0)),
            func.sum(case((a.status == TaskStatus.DOING, 1), else_=0)),
            func.sum(case((a.status == TaskStatus.UNABLE, 1), else_=0)),
            func.count(a.reported_at),
        )
        .join(ResolutionTask, ResolutionTask.id == a.task_id)
        .where(a.task_id.in_(task_ids))
        .group_by(a.task_id)
    )
    return {
        row[0]: TaskCounts(*(int(value or 0) for value in row[1:]))
        for row in await session.execute(query)
    }


async def any_reported(session: AsyncSession, task_id: int) -> bool:
    query = select(TaskAssignment.id).where(
        TaskAssignment.task_id == task_id, TaskAssignment.reported_at.is_not(None)
    )
    return (await session.scalar(query.limit(1))) is not None


async def any_acknowledged(session: AsyncSession, resolution_id: int) -> bool:
    query = (
        select(TaskAssignment.id)
        .join(ResolutionTask, ResolutionTask.id == TaskAssignment.task_id)
        .where(
            ResolutionTask.resolution_id == resolution_id,
            TaskAssignment.acknowledged_at.is_not(None),
        )
    )
    return (await session.scalar(query.limit(1))) is not None


async def open_on_day(session: AsyncSession, resolution_id: int, due_at: datetime) -> int:
    """Assignments not done among the (not cancelled) tasks due at this moment."""
    query = (
        select(func.count(TaskAssignment.id))
        .join(ResolutionTask, ResolutionTask.id == TaskAssignment.task_id)
        .where(
            ResolutionTask.resolution_id == resolution_id,
            ResolutionTask.due_at == due_at,
            ResolutionTask.cancelled_at.is_(None),
            TaskAssignment.status != TaskStatus.DONE,
        )
    )
    return int(await session.scalar(query) or 0)


@dataclass(frozen=True)
class Overdue:
    task: ResolutionTask
    member: Member
    assignment: TaskAssignment


async def overdue(session: AsyncSession, resolution_id: int, now: datetime) -> list[Overdue]:
    """Assignments past their due time and not done, by task then name."""
    query = (
        select(ResolutionTask, Member, TaskAssignment)
        .join(TaskAssignment, TaskAssignment.task_id == ResolutionTask.id)
        .join(Member, Member.id == TaskAssignment.member_id)
        .where(
            ResolutionTask.resolution_id == resolution_id,
            ResolutionTask.cancelled_at.is_(None),
            ResolutionTask.due_at <= now,
            TaskAssignment.status != TaskStatus.DONE,
        )
        .order_by(ResolutionTask.position, Member.full_name, Member.id)
    )
    return [Overdue(t, m, a) for t, m, a in await session.execute(query)]


# --- the month's record ---------------------------------------------------------------


async def previous_periods(session: AsyncSession, periods: Sequence[Period]) -> dict[int, int]:
    """period → the same cell's period of the month before (where there is one)."""
    wanted = {
        (p.cell_id, p.year - (p.month == 1), 12 if p.month == 1 else p.month - 1): p.id
        for p in periods
    }
    if not wanted:
        return {}
    query = select(Period.id, Period.cell_id, Period.year, Period.month).where(
        Period.cell_id.in_({cell for cell, _y, _m in wanted})
    )
    found: dict[int, int] = {}
    for period_id, cell_id, year, month in await session.execute(query):
        later = wanted.get((cell_id, year, month))
        if later is not None:
            found[later] = period_id
    return found


async def on_time_counts(
    session: AsyncSession, period_ids: Sequence[int]
) -> dict[int, tuple[int, int]]:
    """period → (assignments of its resolution's tasks not cancelled, done on time)."""
    if not period_ids:
        return {}
    a = TaskAssignment
    on_time = (a.status == TaskStatus.DONE) & (a.done_at <= ResolutionTask.due_at)
    query = (
        select(Resolution.period_id, func.count(a.id), func.sum(case((on_time, 1), else_=0)))
        .join(ResolutionTask, ResolutionTask.resolution_id == Resolution.id)
        .join(a, a.task_id == ResolutionTask.id)
        .where(Resolution.period_id.in_(period_ids), ResolutionTask.cancelled_at.is_(None))
        .group_by(Resolution.period_id)
    )
    return {pid: (int(n), int(done or 0)) for pid, n, done in await session.execute(query)}


async def task_counts(session: AsyncSession, period_ids: Sequence[int]) -> dict[int, int]:
    """period with a resolution → its tasks not cancelled (0 for a resolution without)."""
    if not period_ids:
        return {}
    live = case((ResolutionTask.cancelled_at.is_(None), ResolutionTask.id), else_=None)
    query = (
        select(Resolution.period_id, func.count(live))
        .outerjoin(ResolutionTask, ResolutionTask.resolution_id == Resolution.id)
        .where(Resolution.period_id.in_(period_ids))
        .group_by(Resolution.period_id)
    )
    return {pid: int(n) for pid, n in await session.execute(query)}
