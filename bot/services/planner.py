"""Turns a cell's month into rows of the notification outbox.

Planning is idempotent: every row has a natural key (recipient, period, kind,
offset, schedule version) and is inserted with ON CONFLICT DO NOTHING, so any
process may plan at any time. When a meeting moves, the period's schedule
version goes up: pending rows of the old version are voided, and rows of the
new version whose time has already passed are stored as void (not sent late).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.rules.calendar import (
    MeetingOverride,
    MeetingRule,
    NotificationKind,
    PeriodTimes,
    ScheduleSettings,
    current_or_next_period,
    planned_notifications,
)
from bot.services.membership import SECRETARY_ROLES
from storage import members as member_store
from storage import notifications as outbox
from storage import schedules as schedule_store
from storage.models import (
    CellSchedule,
    Member,
    MemberStatus,
    NotificationStatus,
    Organization,
    Period,
)
from storage.models import MeetingOverride as OverrideRow


class Kind:
    """Notification kinds (stored as text): the schedule's (`bot.rules.calendar`) and the others."""

    WINDOW_OPEN = NotificationKind.WINDOW_OPEN.value
    MEETING_REMINDER = NotificationKind.MEETING_REMINDER.value
    MEETING_NOTICE = "meeting_notice"  # the meeting was set or moved: tell everyone now
    DEADLINE_NUDGE = NotificationKind.DEADLINE_NUDGE.value
    MANUAL_NUDGE = "manual_nudge"
    MISSING_REPORT = NotificationKind.MISSING_REPORT.value  # to secretaries: who is missing
    SUMMARY_PREVIEW = NotificationKind.SUMMARY_PREVIEW.value
    SUMMARY = NotificationKind.SUMMARY.value
    MEMBER_UNREACHABLE = "member_unreachable"
    EXCUSAL_REQUEST = "excusal_request"  # to secretaries: approve with one tap
    MEMBER_NOTICE = "member_notice"  # of no month: removed, moved, status or role changed
    DOCUMENTS = "documents"  # the meeting's documents, to every member (offset: the document)
    CONSULTATION = "consultation"  # a draft for opinions, to every member (offset: c<id>)
    CONSULTATION_REMINDER = "consult_reminder"  # to members who have not answered, once
    CONSULTATION_TALLY = "consult_tally"  # to secretaries at the deadline
    TASK_ASSIGNED = "task_assigned"  # new tasks, one notice per assignee and message (t<id>[-<id>])
    TASK_DUE = "task_due"  # before a task falls due, to assignees who have not finished it
    TASKS_OVERDUE = "tasks_overdue"  # to secretaries, when tasks fall due (offset: o<day>)


# kinds sent once per period whatever happens to the meeting
ONCE_PER_PERIOD = frozenset({Kind.WINDOW_OPEN, Kind.SUMMARY})
TO_SECRETARIES = frozenset(
    {
        Kind.MISSING_REPORT,
        Kind.SUMMARY_PREVIEW,
        Kind.SUMMARY,
        Kind.MEMBER_UNREACHABLE,
        Kind.EXCUSAL_REQUEST,
        Kind.TASKS_OVERDUE,
    }
)
TO_REQUIRED_MEMBERS = frozenset({Kind.WINDOW_OPEN, Kind.DEADLINE_NUDGE, Kind.MANUAL_NUDGE})
# kinds that do not depend on the meeting's time: moving the meeting leaves them pending
NOT_OF_THE_MEETING = frozenset(
    {
        Kind.MEMBER_UNREACHABLE,
        Kind.EXCUSAL_REQUEST,
        Kind.DOCUMENTS,
        Kind.CONSULTATION,
        Kind.CONSULTATION_REMINDER,
        Kind.CONSULTATION_TALLY,
    }
)


def schedule_settings(schedule: CellSchedule | None) -> ScheduleSettings:
    if schedule is None:
        return ScheduleSettings()
    return ScheduleSettings(
        window_opens_days_before=schedule.window_opens_days_before,
        reminder_offsets=tuple(timedelta(minutes=m) for m in schedule.reminder_offsets),
        deadline_offset=timedelta(minutes=schedule.deadline_offset_minutes),
        preview_offset=timedelta(minutes=schedule.preview_offset_minutes),
    )


def recipients(kind: str, members: list[Member]) -> list[Member]:
    if kind in TO_SECRETARIES:
        return [m for m in members if m.role in SECRETARY_ROLES]
    if kind in TO_REQUIRED_MEMBERS:
        return [m for m in members if m.status != MemberStatus.EXEMPT]
    return members


async def plan_period(
    session: AsyncSession,
    period: Period,
    cell: Organization,
    settings: ScheduleSettings,
    now: datetime,
) -> int:
    """Insert the period's outbox rows for every current member; returns rows offered."""
    members = await member_store.in_org(session, cell.id)
    rows: list[dict[str, Any]] = []
    changed_at = period.schedule_changed_at
    plan = planned_notifications(
        period.opens_at,
        period.deadline_at,
        period.meeting_at,
        zone=ZoneInfo(cell.timezone),
        settings=settings,
    )
    for item in plan:
        version = period.schedule_version if item.versioned else 1
        late = changed_at is not None and item.versioned and item.due_at <= changed_at
        status = NotificationStatus.VOID if late else NotificationStatus.PENDING
        for member in recipients(item.kind, members):
            rows.append(
                outbox.row(
                    member.id,
                    period.id,
                    item.kind.value,
                    item.offset_key,
                    item.due_at,
                    item.expires_at,
                    version=version,
                    status=status,
                )
            )
    for start in range(0, len(rows), 500):
        await outbox.plan(session, rows[start : start + 500])
    period.planned_version = period.schedule_version
    period.planned_at = now
    return len(rows)


def needs_planning(period: Period, newest_member: datetime | None) -> bool:
    """Not planned for this meeting version yet, or someone joined since it was planned."""
    if period.planned_version != period.schedule_version or period.planned_at is None:
        return True
    return newest_member is not None and newest_member > period.planned_at


def as_override(row: OverrideRow) -> MeetingOverride:
    return MeetingOverride(
        skipped=row.skipped, at=row.at, place=row.place, agenda=row.agenda, thematic=row.thematic
    )


async def _overrides(
    session: AsyncSession, cell_ids: list[int]
) -> dict[int, dict[tuple[int, int], MeetingOverride]]:
    found: dict[int, dict[tuple[int, int], MeetingOverride]] = {}
    for row in await schedule_store.overrides_of(session, cell_ids):
        found.setdefault(row.cell_id, {})[(row.year, row.month)] = as_override(row)
    return found


def _sync(period: Period, times: PeriodTimes, schedule: CellSchedule) -> None:
    """The calendar's times for a period the scheduler manages."""
    if period.opened_by_id is None:
        period.deadline_at = times.deadline_at
    period.meeting_at = times.meeting_at
    period.place = times.place or schedule.place
    period.agenda = times.agenda
    period.thematic = times.thematic


async def plan_all(session: AsyncSession, now: datetime) -> int:
    """Bring every scheduled cell's open period and its outbox rows up to date.

    A fixed number of queries whatever the number of cells; outbox rows are only
    written for periods that are new, whose meeting moved, or whose cell has new members.
    """
    schedules = {
        cell.id: (schedule, cell)
        for schedule, cell in await schedule_store.scheduled_cells(session)
    }
    overrides = await _overrides(session, list(schedules))
    open_now: list[tuple[int, PeriodTimes]] = []
    for cell_id, (schedule, cell) in schedules.items():
        times = current_or_next_period(
            MeetingRule.parse(schedule.rule),
            now,
            zone=cell.timezone,
            settings=schedule_settings(schedule),
            overrides=overrides.get(cell_id, {}),
        )
        if times.window_opens_at <= now:
            open_now.append((cell_id, times))
    since = min((t.year for _c, t in open_now), default=now.year)
    existing = {
        (p.cell_id, p.year, p.month): p
        for p in await schedule_store.periods_since(session, [c for c, _t in open_now], since)
    }
    to_plan: list[Period] = []
    for cell_id, times in open_now:
        schedule, cell = schedules[cell_id]
        period = existing.get((cell_id, times.year, times.month))
        if period is None:
            assert cell.framework_id is not None
            period = Period(
                cell_id=cell_id,
                year=times.year,
                month=times.month,
                framework_id=cell.framework_id,
                opens_at=times.window_opens_at,
                deadline_at=times.deadline_at,
            )
            session.add(period)
        _sync(period, times, schedule)
        to_plan.append(period)
    await session.flush()
    hand_opened = await schedule_store.hand_opened_now(session, now)
    planned_ids = {p.id for p in to_plan}
    to_plan += [p for p in hand_opened if p.id not in planned_ids]
    newest = await schedule_store.newest_member_at(session, sorted({p.cell_id for p in to_plan}))
    offered = 0
    for period in to_plan:
        if not needs_planning(period, newest.get(period.cell_id)):
            continue
        entry = schedules.get(period.cell_id)
        owner = entry[1] if entry else await session.get(Organization, period.cell_id)
        assert owner is not None
        settings = schedule_settings(entry[0] if entry else None)
        offered += await plan_period(session, period, owner, settings, now)
    return offered
