"""The cell's meetings: the monthly rule, moving or skipping one month, RSVPs, manual nudges."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.numbers import row_id
from bot.rules.calendar import MeetingRule
from bot.services import periods
from bot.services.planner import NOT_OF_THE_MEETING, Kind, plan_period, schedule_settings
from storage import assessments as assessment_store
from storage import meetings as meeting_store
from storage import members as member_store
from storage import notifications as outbox
from storage.models import (
    CellSchedule,
    Member,
    MemberStatus,
    Organization,
    Period,
    Rsvp,
)
from storage.models import MeetingOverride as OverrideRow

MANUAL_NUDGE_GAP = timedelta(hours=1)
ABSENCE_REASON = "rsvp:"  # a member's pending input: the reason of an absence from period N


async def set_rule(
    session: AsyncSession, cell: Organization, text: str, now: datetime
) -> MeetingRule:
    """Set the monthly rule ("ngày 3 19:30", "first fri 14:00"); ValueError if unreadable."""
    rule = MeetingRule.parse(text)
    schedule = await session.get(CellSchedule, cell.id)
    if schedule is None:
        session.add(CellSchedule(cell_id=cell.id, rule=rule.to_text(), updated_at=now))
    else:
        schedule.rule, schedule.updated_at = rule.to_text(), now
    await session.flush()
    return rule


@dataclass(frozen=True)
class MeetingSet:
    period: Period
    notified: int


async def set_meeting(
    session: AsyncSession,
    cell: Organization,
    by: Member,
    at: datetime,
    now: datetime,
    place: str | None = None,
    agenda: str | None = None,
    thematic: bool = False,
) -> MeetingSet:
    """Set or move the meeting of the open month (or of the month of `at`), tell everyone now.

    Reminders of the old time that have not gone out are voided; those of the
    new time whose moment has already passed are not sent late.
    """
    period = await assessment_store.current_period(session, cell.id, now)
    if period is None or period.deadline_at <= now:
        deadline = at if at > now else None
        period = (await periods.open_period(session, cell, by, now, deadline)).period
    override = await meeting_store.override_for(session, cell.id, period.year, period.month)
    if override is None:
        override = OverrideRow(cell_id=cell.id, year=period.year, month=period.month)
        session.add(override)
    override.at, override.skipped, override.created_by_id = at, False, by.id
    override.place = place or override.place
    override.agenda = agenda or override.agenda
    override.thematic = thematic
    if period.opened_by_id is not None and (
        period.meeting_at is None or period.deadline_at == period.meeting_at
    ):
        period.deadline_at = max(at, now + timedelta(minutes=1))  # deadline follows the meeting
    period.meeting_at = at
    period.place = override.place or period.place
    period.agenda = override.agenda or period.agenda
    period.thematic = thematic
    period.schedule_version += 1
    period.schedule_changed_at = now
    await outbox.void_pending(session, period.id, period.schedule_version, keep=NOT_OF_THE_MEETING)
    schedule = await session.get(CellSchedule, cell.id)
    await plan_period(session, period, cell, schedule_settings(schedule), now)
    members = await member_store.in_org(session, cell.id)
    await outbox.plan(
        session,
        [
            outbox.row(
                m.id,
                period.id,
                Kind.MEETING_NOTICE,
                f"v{period.schedule_version}",
                now,
                max(at, now + timedelta(minutes=1)),
                version=period.schedule_version,
            )
            for m in members
        ],
    )
    return MeetingSet(period, len(members))


async def skip_month(
    session: AsyncSession, cell: Organization, by: Member, year: int, month: int, now: datetime
) -> None:
    """No meeting this month (e.g. Tết): its pending reminders are voided."""
    override = await meeting_store.override_for(session, cell.id, year, month)
    if override is None:
        session.add(
            OverrideRow(cell_id=cell.id, year=year, month=month, skipped=True, created_by_id=by.id)
        )
    else:
        override.skipped, override.at = True, None
    period = await assessment_store.period_for_month(session, cell.id, year, month)
    if period is not None:
        period.schedule_version += 1
        period.schedule_changed_at = now
        await outbox.void_pending(
            session, period.id, period.schedule_version, keep=NOT_OF_THE_MEETING
        )


def ask_absence_reason(member: Member, period: Period) -> None:
    """The member's next typed text is the reason they cannot attend this period's meeting."""
    member.pending_input = f"{ABSENCE_REASON}{period.id}"


def absence_reason_period(member: Member) -> int | None:
    """The period whose absence reason the member is asked for, if any."""
    pending = member.pending_input or ""
    return (
        row_id(pending.removeprefix(ABSENCE_REASON)) if pending.startswith(ABSENCE_REASON) else None
    )


def forget_absence_reason(member: Member) -> None:
    member.pending_input = None


def set_muted(member: Member, muted: bool) -> None:
    """Deadline reminders off (True) or on; meeting notices always come."""
    member.muted = muted


async def rsvp(
    session: AsyncSession,
    member: Member,
    period: Period,
    attending: bool,
    reason: str | None,
    now: datetime,
) -> None:
    member.pending_input = None
    found = await meeting_store.rsvp_of(session, period.id, member.id)
    if found is None:
        session.add(
            Rsvp(
                period_id=period.id,
                member_id=member.id,
                attending=attending,
                reason=reason,
                answered_at=now,
            )
        )
    else:
        found.attending, found.reason, found.answered_at = attending, reason, now


async def rsvps_of(session: AsyncSession, period: Period) -> list[tuple[Member, Rsvp | None]]:
    members = await member_store.in_org(session, period.cell_id)
    answers = await meeting_store.rsvps_by_member(session, period.id)
    return [(m, answers.get(m.id)) for m in members]


async def manual_nudge(session: AsyncSession, period: Period, now: datetime) -> tuple[int, int]:
    """Queue a nudge to everyone still missing, at most once an hour each: (queued, held back)."""
    progress = await periods.cell_progress(session, period)
    missing = [
        p.member
        for p in progress
        if p.progress in {periods.Progress.NOT_STARTED, periods.Progress.IN_PROGRESS}
        and p.member.status != MemberStatus.EXEMPT
    ]
    queued, held = [], 0
    for member in missing:
        if await outbox.recent_of_kind(
            session, member.id, [Kind.MANUAL_NUDGE], now - MANUAL_NUDGE_GAP
        ):
            held += 1
            continue
        key = now.strftime("manual-%Y%m%d%H%M")
        queued.append(
            outbox.row(member.id, period.id, Kind.MANUAL_NUDGE, key, now, period.deadline_at)
        )
    await outbox.plan(session, queued)
    return len(queued), held
