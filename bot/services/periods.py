"""Opening a cell's monthly period by hand, and the secretary's view of who has answered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from storage import assessments as store
from storage import attendance as attendance_store
from storage.models import AssessmentState, Member, MemberStatus, Organization, Period


def end_of_local_month(now: datetime, zone: ZoneInfo) -> datetime:
    """23:59 local on the last day of the month that contains `now`."""
    local = now.astimezone(zone)
    first_next = (local.replace(day=28) + timedelta(days=4)).replace(day=1)
    last_day = first_next - timedelta(days=1)
    return datetime.combine(last_day.date(), time(23, 59), tzinfo=zone).astimezone(now.tzinfo)


@dataclass(frozen=True)
class Opened:
    period: Period
    created: bool


async def open_period(
    session: AsyncSession,
    cell: Organization,
    opened_by: Member | None,
    now: datetime,
    deadline: datetime | None = None,
) -> Opened:
    """Open the month of the deadline (default: end of this month) unless it is open already.

    An existing period of that month keeps its pinned framework; a new deadline
    given by the secretary replaces the old one.
    """
    zone = ZoneInfo(cell.timezone)
    deadline = deadline or end_of_local_month(now, zone)
    local = deadline.astimezone(zone)
    existing = await store.period_for_month(session, cell.id, local.year, local.month)
    if existing is not None:
        if deadline != existing.deadline_at:
            existing.deadline_at = deadline
            await store.drop_unconfirmed_record(session, existing.id)  # answers may change again
        if existing.opens_at > now:
            existing.opens_at = now
        return Opened(existing, False)
    assert cell.framework_id is not None
    period = Period(
        cell_id=cell.id,
        year=local.year,
        month=local.month,
        framework_id=cell.framework_id,
        opens_at=now,
        deadline_at=deadline,
        opened_by_id=opened_by.id if opened_by else None,
    )
    session.add(period)
    await session.flush()
    return Opened(period, True)


class Progress(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    EXCUSED_EXEMPT = "excused_exempt"
    EXCUSED_JOINED_LATE = "excused_joined_late"
    EXCUSED_BY_SECRETARY = "excused_by_secretary"


EXCUSED = frozenset(
    {Progress.EXCUSED_EXEMPT, Progress.EXCUSED_JOINED_LATE, Progress.EXCUSED_BY_SECRETARY}
)


@dataclass(frozen=True)
class MemberProgress:
    member: Member
    progress: Progress
    answered: int


def classify(
    member: Member,
    period: Period,
    state: str | None,
    excused: bool = False,
    status: str | None = None,
) -> Progress:
    """The documented rule: exempt members are excused; so are members the secretary
    excused for the month, and members who joined after the window opened, unless
    they submit anyway. `status`: the member's status for that month, if not the current."""
    if state == AssessmentState.SUBMITTED:
        return Progress.SUBMITTED
    if (status or member.status) == MemberStatus.EXEMPT:
        return Progress.EXCUSED_EXEMPT
    if excused:
        return Progress.EXCUSED_BY_SECRETARY
    if state == AssessmentState.DRAFT:
        return Progress.IN_PROGRESS
    if member.joined_at is not None and member.joined_at > period.opens_at:
        return Progress.EXCUSED_JOINED_LATE
    return Progress.NOT_STARTED


async def cell_progress(session: AsyncSession, period: Period) -> list[MemberProgress]:
    """Everyone on the month's roll, classified with their status of that month."""
    rows = await store.progress_of_cell(session, period)
    excused = await attendance_store.excused_ids(session, period.id)
    return [
        MemberProgress(
            member,
            classify(member, period, a.state if a else None, member.id in excused, status),
            answered,
        )
        for member, a, answered, status in rows
    ]
