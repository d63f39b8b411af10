"""The month's resolution and its tasks: recorded by a secretary, carried out by members.

A resolution belongs to the month (period) of the meeting that passed it; its tasks fall
due in the following weeks and feed the next month's record (`bot.rules.scoring`:
``tasks_on_time``, ``resolution_tasks``, the suggested answer ``tasks_done``).

Every message goes through the outbox, keyed so that it is sent at most once:
- ``task_assigned`` to each assignee (offset ``t<task>``), with "Nhận nhiệm vụ";
- ``task_due`` to each assignee a day before the task falls due (skipped once done);
- ``tasks_overdue`` to the secretaries when tasks fall due (offset ``o<yyyymmdd>``),
  skipped when every task due then was done.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.chat import Attachment
from bot.rules import tasks as rules
from bot.rules.framework import QuestionSpec
from bot.rules.scoring import suggested_option
from bot.services import documents, files
from bot.services.documents import Publishing
from bot.services.planner import Kind
from storage import assessments as period_store
from storage import members as member_store
from storage import notifications as outbox
from storage import tasks as store
from storage.models import (
    AuditEntry,
    Member,
    MemberStatus,
    NotificationStatus,
    Organization,
    Period,
    Resolution,
    ResolutionTask,
    TaskAssignment,
    TaskStatus,
)

MAX_TITLE = 200
MAX_NOTE = 1000  # characters of a member's note on a task
DUE_REMINDER = timedelta(days=1)  # the reminder before a task falls due (default)
OVERDUE_NOTICE_DAYS = 7  # the secretaries' overdue list is worth sending for a week
_ACK_PREFIX = "tnote:"  # a member's pending_input: the next text is the note on a task


class Problem(StrEnum):
    NO_PERIOD = "no_period"
    EMPTY = "empty"
    NO_RESOLUTION = "no_resolution"  # tasks before the resolution's title
    LONG_TITLE = "long_title"
    TOO_MANY = "too_many"
    LINES = "lines"  # see `Refused.lines`
    UNKNOWN_TASK = "unknown_task"
    REPORTED = "reported"  # a task with reports cannot be deleted, only cancelled
    NO_REASON = "no_reason"
    CANCELLED = "cancelled"
    TOO_LARGE = "too_large"
    UNKNOWN_TYPE = "unknown_type"


class Refused(Exception):
    def __init__(self, problem: Problem, lines: list[rules.Problem] | None = None) -> None:
        super().__init__(problem.value)
        self.problem = problem
        self.lines = lines or []


async def month_of(session: AsyncSession, cell_id: int, now: datetime) -> Period | None:
    """The month a resolution recorded now belongs to: the cell's current period."""
    return await period_store.current_period(session, cell_id, now)


def split_message(text: str) -> tuple[str, str, list[tuple[int, str]]]:
    """A /resolution message as (title, body, task lines): the first line is the title,
    lines of the quick form are tasks, the rest is the resolution's text."""
    lines = text.splitlines()
    title, body, tasks = "", [], []
    for number, line in enumerate(lines, 1):
        if rules.is_task_line(line):
            tasks.append((number, line))
        elif not title and line.strip():
            title = line.strip()
        elif title:
            body.append(line)
    return title, "\n".join(body).strip(), tasks


async def people_of(session: AsyncSession, cell_id: int) -> list[Member]:
    return await member_store.in_org(session, cell_id)


def _everyone(members: list[Member]) -> list[Member]:
    """Every member on the roll: exempt members carry no tasks unless named."""
    return [m for m in members if m.status != MemberStatus.EXEMPT]


@dataclass(frozen=True)
class Recorded:
    resolution: Resolution
    period: Period
    created: bool
    added: list[ResolutionTask]
    assignees: int  # people told of the new tasks


async def record(
    session: AsyncSession,
    cell: Organization,
    by: Member,
    text: str,
    now: datetime,
    file: Attachment | None = None,
    publishing: Publishing | None = None,
) -> Recorded:
    """Record (or edit) the month's resolution and add the tasks typed in the quick form.

    Nothing is saved while any line has a problem (Refused, with every problem listed).
    Editing the text after members acknowledged a task keeps the old text in the audit log.
    """
    title, body, task_lines = split_message(text)
    if file is not None and (problem := documents.file_problem(file)) is not None:
        raise Refused(Problem(problem.value))
    if not title and file is not None:
        title = file.filename
    period = await month_of(session, cell.id, now)
    if period is None:
        raise Refused(Problem.NO_PERIOD)
    resolution = await store.resolution_of(session, period.id)
    if not title and not task_lines:
        raise Refused(Problem.EMPTY)
    if resolution is None and not title:
        raise Refused(Problem.NO_RESOLUTION)
    if len(title) > MAX_TITLE:
        raise Refused(Problem.LONG_TITLE)
    drafts = await _parse(session, cell, resolution, task_lines, now)
    created = resolution is None
    if resolution is None:
        resolution = Resolution(period_id=period.id, title=title, created_by_id=by.id)
        resolution.created_at = resolution.updated_at = now
        session.add(resolution)
        await session.flush()
    if title and not created:
        await _edit(session, resolution, period, by, title, body, now)
    elif created:
        resolution.body = body or None
    if file is not None:
        await _attach(session, resolution, file, now, publishing)
    added, told = await _add_tasks(session, cell, resolution, period, drafts, by, now)
    return Recorded(resolution, period, created, added, told)


async def add_tasks(
    session: AsyncSession, cell: Organization, by: Member, text: str, now: datetime
) -> Recorded:
    """/task LINES: more tasks for the month's resolution."""
    period = await month_of(session, cell.id, now)
    if period is None:
        raise Refused(Problem.NO_PERIOD)
    resolution = await store.resolution_of(session, period.id)
    if resolution is None:
        raise Refused(Problem.NO_RESOLUTION)
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    if not lines:
        raise Refused(Problem.EMPTY)
    drafts = await _parse(session, cell, resolution, lines, now)
    added, told = await _add_tasks(session, cell, resolution, period, drafts, by, now)
    return Recorded(resolution, period, False, added, told)


async def _parse(
    session: AsyncSession,
    cell: Organization,
    resolution: Resolution | None,
    lines: list[tuple[int, str]],
    now: datetime,
) -> list[rules.TaskDraft]:
    if not lines:
        return []
    members = await people_of(session, cell.id)
    people = [rules.Person(m.id, m.full_name) for m in members]
    today = now.astimezone(ZoneInfo(cell.timezone)).date()
    parsed = rules.parse_lines(lines, people, today)
    if parsed.problems:
        raise Refused(Problem.LINES, parsed.problems)
    existing = len(await store.tasks_of(session, resolution.id)) if resolution else 0
    if existing + len(parsed.tasks) > rules.MAX_TASKS:
        raise Refused(Problem.TOO_MANY)
    return parsed.tasks


async def _edit(
    session: AsyncSession,
    resolution: Resolution,
    period: Period,
    by: Member,
    title: str,
    body: str,
    now: datetime,
) -> None:
    """A new text for the resolution; audited once a member acknowledged one of its tasks."""
    new_body = body or None
    if (title, new_body) == (resolution.title, resolution.body):
        return
    if await store.any_acknowledged(session, resolution.id):
        session.add(
            AuditEntry(
                period_id=period.id,
                member_id=by.id,
                at=now,
                action="resolution_edit",
                detail={
                    "resolution": resolution.id,
                    "old_title": resolution.title,
                    "old_text": resolution.body,
                    "title": title,
                    "text": new_body,
                },
            )
        )
    resolution.title, resolution.body, resolution.updated_at = title, new_body, now


async def _attach(
    session: AsyncSession,
    resolution: Resolution,
    file: Attachment,
    now: datetime,
    publishing: Publishing | None,
) -> None:
    resolution.file_id = file.file_id
    resolution.file_name = file.filename[:200]
    resolution.mime_type = (file.mime_type or "")[:100] or None
    resolution.file_size = file.byte_size
    resolution.file_link = None
    if publishing is not None and publishing.base_url and file.content:
        ttl = timedelta(days=publishing.days)
        resolution.file_link = await files.share(session, file, now, publishing.base_url, ttl)
    resolution.updated_at = now


async def _add_tasks(
    session: AsyncSession,
    cell: Organization,
    resolution: Resolution,
    period: Period,
    drafts: list[rules.TaskDraft],
    by: Member,
    now: datetime,
) -> tuple[list[ResolutionTask], int]:
    if not drafts:
        return [], 0
    zone = ZoneInfo(cell.timezone)
    members = await people_of(session, cell.id)
    position = max((t.position for t in await store.tasks_of(session, resolution.id)), default=0)
    added: list[ResolutionTask] = []
    batches: dict[int, list[ResolutionTask]] = {}  # member → their tasks of this message
    for draft in drafts:
        position += 1
        task = ResolutionTask(
            resolution_id=resolution.id,
            position=position,
            description=draft.description,
            everyone=draft.everyone,
            due_at=rules.due_at(draft.due_on, zone),
            created_by_id=by.id,
            created_at=now,
        )
        session.add(task)
        await session.flush()
        assignees = _everyone(members) if draft.everyone else _named(members, draft.member_ids)
        for member in assignees:
            session.add(TaskAssignment(task_id=task.id, member_id=member.id))
        await session.flush()
        await _plan(session, cell, period, task, assignees, now)
        for member in assignees:
            batches.setdefault(member.id, []).append(task)
        added.append(task)
    await outbox.plan(
        session,
        [
            outbox.row(member_id, period.id, Kind.TASK_ASSIGNED, batch_key(tasks), now, due)
            for member_id, tasks in batches.items()
            for due in [max(t.due_at for t in tasks)]
        ],
    )
    return added, len(batches)


def _named(members: list[Member], ids: tuple[int, ...]) -> list[Member]:
    by_id = {m.id: m for m in members}
    return [by_id[i] for i in ids if i in by_id]


def task_key(task: ResolutionTask) -> str:
    return f"t{task.id}"


def batch_key(tasks: list[ResolutionTask]) -> str:
    """The key of the one notice that tells a member of their tasks added by one message:
    ``t<id>`` for one task, ``t<first>-<last>`` (ids; the member's own tasks in between,
    of the same month, are theirs) for several — short enough for any number of tasks."""
    ids = sorted(t.id for t in tasks)
    return f"t{ids[0]}" if len(ids) == 1 else f"t{ids[0]}-{ids[-1]}"


def task_range_of(offset: str) -> tuple[int, int] | None:
    """(first, last) task id of a ``task_key`` or ``batch_key``; None for anything else."""
    first, _dash, last = offset.removeprefix("t").partition("-")
    last = last or first
    if not (first.isdigit() and last.isdigit()) or int(first) > int(last):
        return None
    return int(first), int(last)


def overdue_key(task: ResolutionTask, zone: ZoneInfo) -> str:
    return "o" + task.due_at.astimezone(zone).strftime("%Y%m%d")


async def _plan(
    session: AsyncSession,
    cell: Organization,
    period: Period,
    task: ResolutionTask,
    assignees: list[Member],
    now: datetime,
) -> None:
    """The task's notices but the first (one per member and message, planned by the
    caller): reminded a day before, the overdue list after."""
    due = task.due_at
    rows: list[dict[str, Any]] = []
    for member in assignees:
        remind_at = due - DUE_REMINDER
        if remind_at > now:
            rows.append(
                outbox.row(member.id, period.id, Kind.TASK_DUE, task_key(task), remind_at, due)
            )
    expires = due + timedelta(days=OVERDUE_NOTICE_DAYS)
    key = overdue_key(task, ZoneInfo(cell.timezone))
    for secretary in await member_store.secretaries_of(session, cell.id):
        rows.append(outbox.row(secretary.id, period.id, Kind.TASKS_OVERDUE, key, due, expires))
    await outbox.plan(session, rows)


# --- the secretary's changes ----------------------------------------------------------


async def task_by_number(
    session: AsyncSession, cell_id: int, number: int, now: datetime
) -> tuple[ResolutionTask, Resolution, Period]:
    period = await month_of(session, cell_id, now)
    resolution = await store.resolution_of(session, period.id) if period else None
    if period is None or resolution is None:
        raise Refused(Problem.NO_RESOLUTION)
    tasks = await store.tasks_of(session, resolution.id)
    task = next((t for t in tasks if t.position == number), None)
    if task is None:
        raise Refused(Problem.UNKNOWN_TASK)
    return task, resolution, period


async def cancel(
    session: AsyncSession,
    task: ResolutionTask,
    period: Period,
    by: Member,
    reason: str,
    now: datetime,
) -> None:
    """Cancel a task with a reason: it stays in the record, not counted; its notices stop."""
    if not reason.strip():
        raise Refused(Problem.NO_REASON)
    if task.cancelled_at is not None:
        raise Refused(Problem.CANCELLED)
    task.cancelled_at, task.cancel_reason = now, reason.strip()
    session.add(
        AuditEntry(
            period_id=period.id,
            member_id=by.id,
            at=now,
            action="task_cancel",
            detail={"task": task.id, "description": task.description},
            reason=reason.strip(),
        )
    )
    await _stop_notices(session, task, period)


async def delete(session: AsyncSession, task: ResolutionTask, period: Period) -> None:
    """Delete a task nobody reported on (a typo); one with reports can only be cancelled."""
    if await store.any_reported(session, task.id):
        raise Refused(Problem.REPORTED)
    await _stop_notices(session, task, period)
    await session.delete(task)


async def _stop_notices(session: AsyncSession, task: ResolutionTask, period: Period) -> None:
    """The task's pending notices end unsent; a notice of several tasks still goes to a
    member with another live task in it (without this one), else it ends too."""
    await outbox.settle_pending(
        session,
        period.id,
        [Kind.TASK_ASSIGNED, Kind.TASK_DUE],
        task_key(task),
        NotificationStatus.VOID,
    )
    for notice in await outbox.pending_of_kind(session, period.id, Kind.TASK_ASSIGNED):
        covered = task_range_of(notice.offset_key)
        if covered is None or not covered[0] <= task.id <= covered[1]:
            continue
        others = await store.assignments_in_range(
            session, notice.member_id, period.id, *covered, without=task.id
        )
        if not others:
            await outbox.settle_pending(
                session,
                period.id,
                [Kind.TASK_ASSIGNED],
                notice.offset_key,
                NotificationStatus.VOID,
                member_id=notice.member_id,
            )


# --- the members' side ----------------------------------------------------------------


async def acknowledge(
    session: AsyncSession, member: Member, assignment_id: int, now: datetime
) -> store.Assigned | None:
    """ "Nhận nhiệm vụ": recorded once (the first time); None for a forged or foreign id."""
    found = await store.own_assignment(session, assignment_id, member.id)
    if found is None or found.task.cancelled_at is not None:
        return None
    if found.assignment.acknowledged_at is None:
        found.assignment.acknowledged_at = now
    return found


async def assignments_for_notice(
    session: AsyncSession, offset_key: str, member_id: int, period_id: int
) -> list[store.Assigned]:
    """The member's tasks a notice names (by its key), by number: those not cancelled, or
    when all were (cancelled while the notice was on its way) all of them; [] for none."""
    covered = task_range_of(offset_key)
    if covered is None:
        return []
    found = await store.assignments_in_range(
        session, member_id, period_id, *covered, cancelled=True
    )
    return [a for a in found if a.task.cancelled_at is None] or found


async def report(
    session: AsyncSession, member: Member, assignment_id: int, status: TaskStatus, now: datetime
) -> store.Assigned | None:
    """The member's report on their task; the next text (or photo) is an optional note.

    None for a forged or foreign id, or a cancelled task.
    """
    found = await store.own_assignment(session, assignment_id, member.id)
    if found is None or found.task.cancelled_at is not None or status is TaskStatus.OPEN:
        return None
    assignment = found.assignment
    if assignment.acknowledged_at is None:
        assignment.acknowledged_at = now  # reporting on a task acknowledges it
    assignment.status, assignment.reported_at = status, now
    if status is TaskStatus.DONE:
        if assignment.done_at is None:
            assignment.done_at = now
        await _settle_done(session, found, member)
    else:
        assignment.done_at = None
    member.pending_input = f"{_ACK_PREFIX}{assignment.id}"
    return found


async def _settle_done(session: AsyncSession, found: store.Assigned, member: Member) -> None:
    """Done: no reminder for it; no overdue list for its day once every task then is done."""
    period_id, task = found.period.id, found.task
    await outbox.settle_pending(
        session,
        period_id,
        [Kind.TASK_DUE],
        task_key(task),
        NotificationStatus.SKIPPED,
        member_id=member.id,
    )
    await session.flush()
    if await store.open_on_day(session, found.resolution.id, task.due_at) == 0:
        cell = await session.get(Organization, found.period.cell_id)
        assert cell is not None
        zone = ZoneInfo(cell.timezone)
        await outbox.settle_pending(
            session,
            period_id,
            [Kind.TASKS_OVERDUE],
            overdue_key(task, zone),
            NotificationStatus.SKIPPED,
        )


def noting(member: Member) -> int | None:
    """The assignment whose note the member is asked for, if any."""
    pending = member.pending_input or ""
    if not pending.startswith(_ACK_PREFIX):
        return None
    digits = pending.removeprefix(_ACK_PREFIX)
    return int(digits) if digits.isdigit() else None


async def add_note(
    session: AsyncSession,
    member: Member,
    assignment_id: int,
    note: str | None,
    photo_file_id: str | None,
    now: datetime,
) -> store.Assigned | None:
    """The optional note (text, or a Telegram photo as evidence) on the latest report."""
    member.pending_input = None
    found = await store.own_assignment(session, assignment_id, member.id)
    if found is None:
        return None
    if note is not None:
        found.assignment.note = note.strip()[:MAX_NOTE] or None
    if photo_file_id is not None:
        found.assignment.photo_file_id = photo_file_id[:200]
    found.assignment.reported_at = now
    return found


def skip_note(member: Member) -> None:
    member.pending_input = None


async def open_tasks(session: AsyncSession, member: Member) -> list[store.Assigned]:
    """The member's tasks not done yet (any month), soonest due first."""
    return [
        a
        for a in await store.assignments_of_member(session, member.id)
        if a.assignment.status != TaskStatus.DONE and a.period.cell_id == member.org_id
    ]


async def done_recently(
    session: AsyncSession, member: Member, now: datetime, days: int = 31
) -> list[store.Assigned]:
    since = now - timedelta(days=days)
    return [
        a
        for a in await store.assignments_of_member(session, member.id)
        if a.assignment.status == TaskStatus.DONE
        and a.assignment.done_at is not None
        and a.assignment.done_at >= since
        and a.period.cell_id == member.org_id
    ]


# --- views ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskLine:
    task: ResolutionTask
    counts: store.TaskCounts


@dataclass(frozen=True)
class MonthTasks:
    resolution: Resolution
    period: Period
    tasks: list[TaskLine]


async def month_tasks(
    session: AsyncSession, cell_id: int, now: datetime, period: Period | None = None
) -> MonthTasks | None:
    """The latest resolution of the cell (or that of `period`) with counts per task."""
    if period is not None:
        resolution = await store.resolution_of(session, period.id)
        found = (resolution, period) if resolution is not None else None
    else:
        found = await store.latest_resolution(session, cell_id, now)
    if found is None:
        return None
    resolution, period = found
    tasks = await store.tasks_of(session, resolution.id)
    counts = await store.counts_by_task(session, [t.id for t in tasks])
    lines = [TaskLine(t, counts.get(t.id, store.TaskCounts())) for t in tasks]
    return MonthTasks(resolution, period, lines)


async def task_of_cell(
    session: AsyncSession, task_id: int, cell_id: int
) -> tuple[ResolutionTask, Resolution, Period] | None:
    return await store.task_in_cell(session, task_id, cell_id)


async def who(session: AsyncSession, task_id: int) -> list[tuple[TaskAssignment, Member]]:
    return await store.assignments_of_task(session, task_id)


async def overdue(session: AsyncSession, resolution_id: int, now: datetime) -> list[store.Overdue]:
    return await store.overdue(session, resolution_id, now)


async def resolution_of(session: AsyncSession, period_id: int) -> Resolution | None:
    return await store.resolution_of(session, period_id)


# --- the next month's self-assessment -------------------------------------------------


@dataclass(frozen=True)
class TasksHint:
    """For the question on tasks: the member's tasks of last month's resolution."""

    assigned: list[store.Assigned]
    share: float | None  # done on time, of the tasks not cancelled
    suggested: str | None  # the option value the framework suggests


async def tasks_hint(
    session: AsyncSession, period: Period, member_id: int, question: QuestionSpec
) -> TasksHint | None:
    """None when the member had no task in the previous month's resolution."""
    previous = (await store.previous_periods(session, [period])).get(period.id)
    if previous is None:
        return None
    assigned = await store.assignments_of_member(session, member_id, period_id=previous)
    if not assigned:
        return None
    records = [rules.TaskRecord(a.task.due_at, a.assignment.done_at) for a in assigned]
    share = rules.on_time_share(records)
    return TasksHint(assigned, share, suggested_option(question, share))


@dataclass(frozen=True)
class CellTaskFigures:
    """A month's figures for the record: the previous resolution's tasks, this one's."""

    on_time: float | None  # tasks_on_time
    has_tasks: float | None  # resolution_tasks


async def month_metrics(session: AsyncSession, periods: list[Period]) -> dict[int, CellTaskFigures]:
    """The task metrics of many months in a fixed number of queries."""
    previous = await store.previous_periods(session, periods)
    ids = [p.id for p in periods]
    shares = await store.on_time_counts(session, list(previous.values()))
    counts = await store.task_counts(session, ids)
    figures: dict[int, CellTaskFigures] = {}
    for period in periods:
        before = previous.get(period.id)
        total, done = shares.get(before, (0, 0)) if before is not None else (0, 0)
        tasks = counts.get(period.id)
        figures[period.id] = CellTaskFigures(
            done / total if total else None,
            None if tasks is None else (1.0 if tasks else 0.0),
        )
    return figures
