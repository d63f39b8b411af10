"""Resolutions and tasks on SQLite and PostgreSQL: the quick form, reports, the computed
criteria of the next month, the suggested answer, notices and refusals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.chat import Reply
from bot.rules import tasks as rules
from bot.rules.framework import CellMetric, load_framework
from bot.rules.scoring import metric_score, suggested_option
from bot.services import evaluation
from bot.services import tasks as service
from bot.services.notify import Notice
from bot.services.planner import Kind
from bot.services.setup import create_cell
from handlers import notices
from storage import orgs
from storage.db import Database
from storage.models import (
    AuditEntry,
    Member,
    MemberStatus,
    Notification,
    NotificationStatus,
    Organization,
    OrgKind,
    Period,
    ResolutionTask,
    Role,
    TaskAssignment,
    TaskStatus,
)

NOV_MEETING = datetime(2026, 11, 5, 12, 30, tzinfo=UTC)
NOV_NOW = datetime(2026, 11, 6, 3, 0, tzinfo=UTC)  # the day after November's meeting


@dataclass
class Cell:
    id: int
    november: int
    december: int
    secretary: int
    binh: int
    cuong: int  # exempt
    dung: int


async def make_cell(db: Database) -> Cell:
    async with db.session() as session:
        committee = await orgs.create(session, "Đảng bộ phường", OrgKind.COMMITTEE)
        cell = await create_cell(
            session, "Chi bộ 1", committee, timezone="Asia/Ho_Chi_Minh", locale="vi"
        )
        assert cell.framework_id is not None
        months = [
            Period(
                cell_id=cell.id,
                year=2026,
                month=month,
                framework_id=cell.framework_id,
                opens_at=meeting - timedelta(days=7),
                deadline_at=meeting,
                meeting_at=meeting,
            )
            for month, meeting in ((11, NOV_MEETING), (12, NOV_MEETING + timedelta(days=30)))
        ]
        people = [
            Member(org_id=cell.id, full_name="Nguyễn Văn An", role=Role.SECRETARY),
            Member(org_id=cell.id, full_name="Trần Thị Bình"),
            Member(org_id=cell.id, full_name="Lê Văn Cường", status=MemberStatus.EXEMPT),
            Member(org_id=cell.id, full_name="Phạm Văn Dũng"),
        ]
        session.add_all([*months, *people])
        await session.flush()
        return Cell(cell.id, months[0].id, months[1].id, *(p.id for p in people))


async def record(db: Database, cell: Cell, text: str, now: datetime = NOV_NOW) -> service.Recorded:
    async with db.session() as session:
        org = await session.get(Organization, cell.id)
        secretary = await session.get(Member, cell.secretary)
        assert org is not None and secretary is not None
        return await service.record(session, org, secretary, text, now)


RESOLUTION = (
    "Nghị quyết tháng 11\nKhắc phục hậu quả bão.\n"
    "Tuyên truyền lịch gieo trồng | tất cả | 20/11\n"
    "Vận động dọn vệ sinh | binh, Phạm Văn Dũng | 15/11/2026\n"
    "Thăm hộ nghèo | Cường | 25/11"
)


async def report(
    db: Database, member_id: int, task_position: int, status: TaskStatus, at: datetime
) -> None:
    async with db.session() as session:
        member = await session.get(Member, member_id)
        assert member is not None
        assignment = await session.scalar(
            select(TaskAssignment)
            .join(ResolutionTask, ResolutionTask.id == TaskAssignment.task_id)
            .where(TaskAssignment.member_id == member_id, ResolutionTask.position == task_position)
        )
        assert assignment is not None
        assert await service.report(session, member, assignment.id, status, at) is not None


async def test_quick_form_assigns_and_tells_each_assignee_once(db: Database) -> None:
    cell = await make_cell(db)
    done = await record(db, cell, RESOLUTION)
    assert done.created and len(done.added) == 3
    again = await record(db, cell, "Nghị quyết tháng 11\nKhắc phục hậu quả bão.")
    assert not again.created and not again.added
    async with db.session() as session:
        tasks = list(
            await session.scalars(select(ResolutionTask).order_by(ResolutionTask.position))
        )
        pairs = set((a.task_id, a.member_id) for a in await session.scalars(select(TaskAssignment)))
        told = list(
            await session.scalars(select(Notification).where(Notification.kind == "task_assigned"))
        )
    # "tất cả" is everyone on the roll but the exempt member; Cường is named on task 3
    assert {m for t, m in pairs if t == tasks[0].id} == {cell.secretary, cell.binh, cell.dung}
    assert {m for t, m in pairs if t == tasks[1].id} == {cell.binh, cell.dung}
    assert {m for t, m in pairs if t == tasks[2].id} == {cell.cuong}
    # one notice per member for the tasks of one message: Bình and Dũng have two
    first, second, third = (t.id for t in tasks)
    assert sorted((n.member_id, n.offset_key) for n in told) == sorted(
        [
            (cell.secretary, f"t{first}"),
            (cell.binh, f"t{first}-{second}"),
            (cell.dung, f"t{first}-{second}"),
            (cell.cuong, f"t{third}"),
        ]
    )
    # due at the end of the day in Hà Nội time (16:59:59 UTC)
    assert tasks[1].due_at == datetime(2026, 11, 15, 16, 59, 59, tzinfo=UTC)


async def test_bad_lines_save_nothing_and_name_candidates(db: Database) -> None:
    cell = await make_cell(db)
    with pytest.raises(service.Refused) as refused:
        await record(
            db,
            cell,
            "Nghị quyết\nViệc A | Văn | 20/11\nViệc B | Bình, Hùng | 20/11\n"
            "Việc C | tất cả | 1/10/2026",
        )
    problems = {(p.line, p.problem) for p in refused.value.lines}
    assert problems == {
        (2, rules.LineProblem.UNKNOWN_NAME),
        (3, rules.LineProblem.UNKNOWN_NAME),
        (4, rules.LineProblem.PAST_DATE),
    }
    unknown = next(p for p in refused.value.lines if p.line == 2)
    assert set(unknown.candidates) == {"Nguyễn Văn An", "Lê Văn Cường", "Phạm Văn Dũng"}
    async with db.session() as session:
        assert await service.resolution_of(session, cell.november) is None


async def test_task_metrics_feed_the_next_month(db: Database) -> None:
    cell = await make_cell(db)
    await record(db, cell, RESOLUTION)
    on_time = datetime(2026, 11, 14, 10, 0, tzinfo=UTC)
    late = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
    await report(db, cell.binh, 1, TaskStatus.DONE, on_time)
    await report(db, cell.binh, 2, TaskStatus.DONE, on_time)
    await report(db, cell.dung, 1, TaskStatus.DONE, late)  # after 20/11 ended
    await report(db, cell.dung, 2, TaskStatus.DOING, on_time)
    await report(db, cell.cuong, 3, TaskStatus.UNABLE, on_time)
    async with db.session() as session:
        november = await session.get(Period, cell.november)
        december = await session.get(Period, cell.december)
        assert november is not None and december is not None
        nov = await evaluation.compute(session, november)
        dec = await evaluation.compute(session, december)
    # 6 assignments (3 + 2 + 1), 2 done on time; the November resolution has tasks
    assert dec.metrics[CellMetric.TASKS_ON_TIME] == pytest.approx(2 / 6)
    assert nov.metrics[CellMetric.RESOLUTION_TASKS] == 1.0
    assert dec.metrics[CellMetric.RESOLUTION_TASKS] is None  # no December resolution yet
    assert nov.metrics[CellMetric.TASKS_ON_TIME] is None  # nothing before November
    spec = load_framework()
    points = {c.key: c for c in dec.result.criteria}
    criterion = next(c for _g, c in spec.cell_criteria() if c.key == "g1_tasks_on_time")
    assert criterion.full_at == 0.9
    assert points["g1_tasks_on_time"].points == pytest.approx(3 * (2 / 6) / 0.9)


async def test_cancelled_tasks_leave_the_share_and_keep_a_reason(db: Database) -> None:
    cell = await make_cell(db)
    await record(db, cell, RESOLUTION)
    await report(db, cell.binh, 2, TaskStatus.DONE, NOV_NOW)
    async with db.session() as session:
        secretary = await session.get(Member, cell.secretary)
        assert secretary is not None
        task, _resolution, period = await service.task_by_number(session, cell.id, 2, NOV_NOW)
        with pytest.raises(service.Refused) as refused:
            await service.delete(session, task, period)
        assert refused.value.problem is service.Problem.REPORTED
        await service.cancel(session, task, period, secretary, "Bão lớn", NOV_NOW)
        third, _r, _p = await service.task_by_number(session, cell.id, 3, NOV_NOW)
        await service.delete(session, third, period)  # nobody reported: a typo, deleted
    async with db.session() as session:
        december = await session.get(Period, cell.december)
        assert december is not None
        figures = (await service.month_metrics(session, [december]))[december.id]
        audit = list(await session.scalars(select(AuditEntry)))
        void = list(
            await session.scalars(
                select(Notification).where(Notification.status == NotificationStatus.VOID)
            )
        )
    assert figures.on_time == 0.0  # only task 1 counts, nobody finished it
    assert [(a.action, a.reason) for a in audit] == [("task_cancel", "Bão lớn")]
    assert {n.kind for n in void} >= {Kind.TASK_ASSIGNED}


async def test_done_skips_the_reminder_and_the_overdue_list(db: Database) -> None:
    cell = await make_cell(db)
    await record(db, cell, "Nghị quyết\nViệc riêng | Bình | 20/11")
    await report(db, cell.binh, 1, TaskStatus.DONE, NOV_NOW + timedelta(hours=1))
    async with db.session() as session:
        rows = {
            n.kind: n.status
            for n in await session.scalars(
                select(Notification).where(Notification.kind.in_(["task_due", "tasks_overdue"]))
            )
        }
    assert rows == {"task_due": NotificationStatus.SKIPPED, "tasks_overdue": "skipped"}


async def test_edit_after_acknowledgement_is_audited(db: Database) -> None:
    cell = await make_cell(db)
    await record(db, cell, RESOLUTION)
    await record(db, cell, "Nghị quyết tháng 11\nSửa trước khi ai nhận: không ghi nhật ký.")
    async with db.session() as session:
        member = await session.get(Member, cell.binh)
        assert member is not None
        mine = await service.open_tasks(session, member)
        assert await service.acknowledge(session, member, mine[0].assignment.id, NOV_NOW)
        other = await session.get(Member, cell.dung)
        assert other is not None
        assert await service.acknowledge(session, other, mine[0].assignment.id, NOV_NOW) is None
    await record(db, cell, "Nghị quyết tháng 11 (sửa)\nNội dung mới.")
    async with db.session() as session:
        audit = list(await session.scalars(select(AuditEntry)))
    assert len(audit) == 1 and audit[0].action == "resolution_edit"
    assert audit[0].detail["old_title"] == "Nghị quyết tháng 11"
    assert audit[0].detail["title"] == "Nghị quyết tháng 11 (sửa)"


async def test_the_suggested_answer_follows_the_members_record(db: Database) -> None:
    cell = await make_cell(db)
    await record(db, cell, RESOLUTION)
    await report(db, cell.binh, 1, TaskStatus.DONE, NOV_NOW)
    await report(db, cell.binh, 2, TaskStatus.DONE, NOV_NOW)
    await report(db, cell.dung, 1, TaskStatus.DONE, NOV_NOW)
    spec = load_framework()
    question = next(q for _g, _c, q in spec.member_questions() if q.key == "g1_tasks_resolution")
    async with db.session() as session:
        december = await session.get(Period, cell.december)
        assert december is not None
        binh = await service.tasks_hint(session, december, cell.binh, question)
        dung = await service.tasks_hint(session, december, cell.dung, question)
        nobody = await service.tasks_hint(session, december, cell.secretary + 1000, question)
    assert binh is not None and binh.share == 1.0 and binh.suggested == "excellent"
    assert dung is not None and dung.share == 0.5 and dung.suggested == "completed"
    assert nobody is None


def test_suggestion_and_metric_rules_come_from_the_file() -> None:
    spec = load_framework()
    question = next(q for _g, _c, q in spec.member_questions() if q.key == "g1_tasks_resolution")
    assert [suggested_option(question, s) for s in (1.0, 0.8, 0.5, 0.2, None)] == [
        "excellent",
        "good",
        "completed",
        "not_done",
        None,
    ]
    plain = question.model_copy(update={"suggest_levels": None})
    assert suggested_option(plain, 1.0) == "excellent"
    assert suggested_option(plain, 0.99) == "not_done"
    assert metric_score(CellMetric.TASKS_ON_TIME, 0.95) == 1.0  # default full_at 0.9
    assert metric_score(CellMetric.TASKS_ON_TIME, 0.45) == pytest.approx(0.5)
    assert metric_score(CellMetric.TASKS_ON_TIME, 0.5, full_at=0.5) == 1.0


def test_dates_in_the_quick_form() -> None:
    today = date(2026, 12, 2)
    assert rules.parse_date("20/12", today) == date(2026, 12, 20)
    assert rules.parse_date("10/1", today) == date(2027, 1, 10)
    assert rules.parse_date("20/11", today) is rules.LineProblem.PAST_DATE
    assert rules.parse_date("31/2", today) is rules.LineProblem.BAD_DATE
    assert rules.parse_date("20/12/2027", today) is rules.LineProblem.FAR_DATE
    assert rules.parse_date("mai", today) is rules.LineProblem.BAD_DATE
    people = [rules.Person(1, "Trần Thị Bình"), rules.Person(2, "Nguyễn Văn Bình")]
    assert [p.id for p in rules.match_name("TRAN THI BINH", people)] == [1]
    assert len(rules.match_name("bình", people)) == 2


async def test_stored_framework_keeps_the_task_fields(db: Database) -> None:
    from storage import frameworks as framework_store

    spec = load_framework()
    async with db.session() as session:
        stored, _created = await framework_store.store(session, spec)
        framework_store._specs.clear()
        loaded = await framework_store.load_spec(session, stored.id)
    assert loaded.question("g1_tasks_resolution").suggest_levels == (
        spec.question("g1_tasks_resolution").suggest_levels
    )
    on_time = next(c for _g, c in loaded.cell_criteria() if c.key == "g1_tasks_on_time")
    assert on_time.full_at == 0.9


async def _told(db: Database, member_id: int) -> list[Notification]:
    async with db.session() as session:
        query = select(Notification).where(
            Notification.kind == Kind.TASK_ASSIGNED, Notification.member_id == member_id
        )
        return list(await session.scalars(query))


async def _render(db: Database, row: Notification) -> Reply:
    async with db.session() as session:
        member = await session.get(Member, row.member_id)
        period = await session.get(Period, row.period_id)
        assert member is not None and period is not None
        cell = await session.get(Organization, period.cell_id)
        assert cell is not None
        return await notices.render(session, Notice(row, member, cell, period, False))


async def test_a_members_tasks_of_one_message_come_in_one_notice(db: Database) -> None:
    cell = await make_cell(db)
    await record(db, cell, RESOLUTION)
    (binh,) = await _told(db, cell.binh)
    reply = await _render(db, binh)
    assert "giao cho đồng chí 2 nhiệm vụ" in reply.text
    assert "Tuyên truyền lịch gieo trồng" in reply.text and "Vận động dọn vệ sinh" in reply.text
    assert "Thăm hộ nghèo" not in reply.text  # Cường's task
    labels = [b.label for row in reply.buttons for b in row]
    assert labels == ["👍 1 · Nhận nhiệm vụ", "👍 2 · Nhận nhiệm vụ"]
    async with db.session() as session:  # each button accepts its own task, once
        member = await session.get(Member, cell.binh)
        assert member is not None
        for row in reply.buttons:
            assignment = int(row[0].data.rsplit(":", 1)[1])
            found = await service.acknowledge(session, member, assignment, NOV_NOW)
            assert found is not None and found.assignment.member_id == cell.binh
    (single,) = await _told(db, cell.cuong)
    alone = await _render(db, single)
    assert "một nhiệm vụ" in alone.text and len(alone.buttons) == 1

    # more tasks by /task: a notice of their own, never the first one again
    async with db.session() as session:
        org = await session.get(Organization, cell.id)
        secretary = await session.get(Member, cell.secretary)
        assert org is not None and secretary is not None
        await service.add_tasks(
            session, org, secretary, "Việc X | Bình | 22/11\nViệc Y | Bình | 23/11", NOV_NOW
        )
    assert len(await _told(db, cell.binh)) == 2

    # cancelling one task of a notice keeps it for the other; both: it ends unsent
    async with db.session() as session:
        secretary = await session.get(Member, cell.secretary)
        assert secretary is not None
        for number in (4, 5):
            task, _r, period = await service.task_by_number(session, cell.id, number, NOV_NOW)
            await service.cancel(session, task, period, secretary, "Trùng", NOV_NOW)
            if number == 4:
                await session.flush()
                rows = {n.offset_key: n.status for n in await _told_in(session, cell.binh)}
                assert sorted(rows.values()) == ["pending", "pending"]
    statuses = sorted(n.status for n in await _told(db, cell.binh))
    assert statuses == ["pending", "void"]
    # deleting one of Bình's first two leaves the other in the notice
    async with db.session() as session:
        task, _r, period = await service.task_by_number(session, cell.id, 2, NOV_NOW)
        await service.delete(session, task, period)
    first = next(n for n in await _told(db, cell.binh) if n.status == "pending")
    rest = await _render(db, first)
    assert "Vận động dọn vệ sinh" not in rest.text and "một nhiệm vụ" in rest.text


async def _told_in(session: AsyncSession, member_id: int) -> list[Notification]:
    query = select(Notification).where(
        Notification.kind == Kind.TASK_ASSIGNED, Notification.member_id == member_id
    )
    return list(await session.scalars(query))
