"""Meeting attendance (pre-filled from RSVPs) and monthly excusals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.planner import Kind
from storage import attendance as attendance_store
from storage import meetings as meeting_store
from storage import members as member_store
from storage import notifications as outbox
from storage.models import (
    Attendance,
    Excusal,
    ExcusalStatus,
    Member,
    Period,
)


class Mark:
    """The three states a secretary cycles through for each member."""

    PRESENT = "present"
    EXCUSED = "absent_with_reason"
    UNEXCUSED = "absent_without_reason"


def mark_of(row: Attendance) -> str:
    if row.present:
        return Mark.PRESENT
    return Mark.EXCUSED if row.with_reason else Mark.UNEXCUSED


async def expected(session: AsyncSession, period: Period) -> list[Member]:
    """Members expected at the meeting (exempt members are not)."""
    return await attendance_store.expected_members(session, period)


async def sheet(
    session: AsyncSession, period: Period, by: Member, now: datetime
) -> list[tuple[Member, Attendance]]:
    """The attendance sheet; first opened, it is pre-filled from the RSVPs and stored."""
    rows = await attendance_store.attendance_by_member(session, period.id)
    rsvps = await meeting_store.rsvps_by_member(session, period.id)
    sheet_rows = []
    for member in await expected(session, period):
        row = rows.get(member.id)
        if row is None:
            rsvp = rsvps.get(member.id)
            attending = rsvp is None or rsvp.attending
            row = Attendance(
                period_id=period.id,
                member_id=member.id,
                present=attending,
                with_reason=not attending,
                recorded_by_id=by.id,
                recorded_at=now,
            )
            session.add(row)
        sheet_rows.append((member, row))
    await session.flush()
    return sheet_rows


async def recorded(session: AsyncSession, period: Period) -> list[tuple[Member, Attendance | None]]:
    """The expected members with their stored mark, if any: the sheet as it stands, read
    only (the web view shows it; unlike `sheet` nothing is pre-filled or stored)."""
    rows = await attendance_store.attendance_by_member(session, period.id)
    return [(m, rows.get(m.id)) for m in await expected(session, period)]


def cycle(row: Attendance, by: Member, now: datetime) -> None:
    """present → absent with reason → absent without reason → present."""
    mark = mark_of(row)
    row.present = mark == Mark.UNEXCUSED
    row.with_reason = mark == Mark.PRESENT
    row.recorded_by_id, row.recorded_at = by.id, now


@dataclass(frozen=True)
class AttendanceSummary:
    expected: int
    present: int
    with_reason: int
    without_reason: int

    @property
    def rate(self) -> float:
        return self.present / self.expected if self.expected else 0.0


def summarize(rows: list[tuple[Member, Attendance]]) -> AttendanceSummary:
    marks = [mark_of(a) for _m, a in rows]
    return AttendanceSummary(
        expected=len(marks),
        present=marks.count(Mark.PRESENT),
        with_reason=marks.count(Mark.EXCUSED),
        without_reason=marks.count(Mark.UNEXCUSED),
    )


async def toggle_excusal(
    session: AsyncSession, period: Period, member: Member, by: Member, now: datetime
) -> bool:
    """The secretary excuses a member for the month, or takes it back; returns excused."""
    excusal = await attendance_store.excusal_of(session, period.id, member.id)
    if excusal is None:
        excusal = Excusal(period_id=period.id, member_id=member.id, requested_at=now)
        session.add(excusal)
    approved = excusal.status != ExcusalStatus.APPROVED
    excusal.status = ExcusalStatus.APPROVED if approved else ExcusalStatus.DECLINED
    excusal.decided_by_id, excusal.decided_at = by.id, now
    await session.flush()
    return approved


class RequestOutcome(StrEnum):
    """What a member's /excuse did."""

    SENT = "sent"  # a new request: each secretary gets a message to approve it
    UPDATED = "updated"  # a request was already waiting: only its reason changed
    ALREADY_EXCUSED = "already_excused"  # approved before: nothing changed


async def request_excusal(
    session: AsyncSession, period: Period, member: Member, reason: str, now: datetime
) -> RequestOutcome:
    """A member asks to be excused; the secretaries are asked once per pending request.

    At most one request per member and month waits for a decision: asking again while
    it waits updates the reason instead of sending the secretaries another message.
    """
    excusal = await attendance_store.excusal_of(session, period.id, member.id)
    if excusal is not None and excusal.status == ExcusalStatus.APPROVED:
        return RequestOutcome.ALREADY_EXCUSED
    if excusal is not None and excusal.status == ExcusalStatus.REQUESTED:
        excusal.reason = reason
        await session.flush()
        return RequestOutcome.UPDATED
    if excusal is None:
        excusal = Excusal(period_id=period.id, member_id=member.id)
        session.add(excusal)
    excusal.reason, excusal.status, excusal.requested_at = reason, ExcusalStatus.REQUESTED, now
    excusal.decided_by_id = excusal.decided_at = None
    await session.flush()
    await outbox.plan(
        session,
        [
            outbox.row(
                s.id,
                period.id,
                Kind.EXCUSAL_REQUEST,
                f"x{excusal.id}-{now:%Y%m%d%H%M%S}",
                now,
                period.deadline_at + timedelta(days=7),
            )
            for s in await member_store.secretaries_of(session, member.org_id)
        ],
    )
    return RequestOutcome.SENT


async def decide(
    session: AsyncSession, excusal: Excusal, approve: bool, by: Member, now: datetime
) -> None:
    excusal.status = ExcusalStatus.APPROVED if approve else ExcusalStatus.DECLINED
    excusal.decided_by_id, excusal.decided_at = by.id, now
