"""The committee's view of the monthly cycle (/cells): tasks done on time, answers to drafts
and documents in time, per cell and for the committee, counts only, on both stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import handlers
from bot.core.chat import ChatEvent, Reply, split_reply, text_length
from bot.core.config import load_settings
from bot.core.i18n import Translator
from bot.services import committee, membership
from bot.services.runtime import Runtime
from bot.services.setup import create_cell
from storage import orgs
from storage.db import Database
from storage.models import (
    Consultation,
    ConsultationResponse,
    MeetingDocument,
    Member,
    Organization,
    OrgKind,
    Period,
    Resolution,
    ResolutionTask,
    Role,
    TaskAssignment,
    TaskStatus,
)
from tests.conftest import FakeClock

NOV_MEETING = datetime(2026, 11, 5, 12, 0, tzinfo=UTC)
DEC_MEETING = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
NOW = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
OFFICER = "50"


def _period(cell: Organization, month: int, meeting: datetime) -> Period:
    assert cell.framework_id is not None
    return Period(
        cell_id=cell.id,
        year=2026,
        month=month,
        framework_id=cell.framework_id,
        opens_at=meeting - timedelta(days=7),
        deadline_at=meeting,
        meeting_at=meeting,
    )


async def _cycle(
    db: Database,
    cell: Organization,
    *,
    on_time: int,
    late: int,
    answered: int,
    lead_hours: float | None,
) -> None:
    """A cell's November (a resolution whose tasks fall due) and December (a draft, documents)
    with four members: `on_time` tasks done in time, `late` done late, the rest open."""
    async with db.session() as session:
        november, december = _period(cell, 11, NOV_MEETING), _period(cell, 12, DEC_MEETING)
        people = [Member(org_id=cell.id, full_name=f"Đảng viên {n} {cell.name}") for n in range(4)]
        session.add_all([november, december, *people])
        await session.flush()
        resolution = Resolution(period_id=november.id, title="Nghị quyết tháng 11")
        session.add(resolution)
        await session.flush()
        due = NOV_MEETING + timedelta(days=10)
        task = ResolutionTask(
            resolution_id=resolution.id, position=1, description="Việc riêng X", due_at=due
        )
        cancelled = ResolutionTask(
            resolution_id=resolution.id,
            position=2,
            description="Bỏ",
            due_at=due,
            cancelled_at=NOV_MEETING,
        )
        session.add_all([task, cancelled])
        await session.flush()
        for n, person in enumerate(people):
            done_at = (
                due - timedelta(days=1)
                if n < on_time
                else due + timedelta(days=1)
                if n < on_time + late
                else None
            )
            status = TaskStatus.DONE if done_at else TaskStatus.OPEN
            session.add(
                TaskAssignment(task_id=task.id, member_id=person.id, status=status, done_at=done_at)
            )
            session.add(TaskAssignment(task_id=cancelled.id, member_id=person.id))
        draft = Consultation(
            period_id=december.id, text="Văn bản kín Y", deadline_at=NOW, remind_at=NOW, roll=4
        )
        session.add(draft)
        await session.flush()
        session.add_all(
            ConsultationResponse(
                consultation_id=draft.id, member_id=p.id, choice="agree", comment="Bí mật"
            )
            for p in people[:answered]
        )
        if lead_hours is not None:
            session.add(
                MeetingDocument(
                    period_id=december.id,
                    title="Tài liệu mật Z",
                    sent_at=DEC_MEETING - timedelta(hours=lead_hours),
                )
            )


async def _committee(db: Database, cells: int) -> tuple[int, list[Organization]]:
    async with db.session() as session:
        ward = await orgs.create(session, "Đảng bộ phường Đông Mai", OrgKind.COMMITTEE)
        made = [
            await create_cell(
                session, f"Chi bộ khu phố {n}", ward, timezone="Asia/Ho_Chi_Minh", locale="vi"
            )
            for n in range(1, cells + 1)
        ]
        return ward.id, made


async def _officer_view(db: Database, ward_id: int) -> list[str]:
    """/cells as the committee officer sees it (joined with an invite)."""
    clock = FakeClock(NOW)
    runtime = Runtime(
        load_settings(database_url=db.url, _env_file=None), db, clock=clock, bot_username="b"
    )
    async with db.session() as session:
        ward = await session.get(Organization, ward_id)
        assert ward is not None
        code, _ = await membership.create_invite(
            session, ward, Role.COMMITTEE_OFFICER, now=NOW, valid_for=timedelta(days=1)
        )

    async def say(text: str) -> list[str]:
        event = ChatEvent("telegram", OFFICER, OFFICER, "Officer", "vi", text, None)
        return [reply.text for reply in (await handlers.handle(runtime, event)).replies]

    await say(f"/start {code}")
    return await say("/cells 2026-12")


async def test_cells_show_each_cells_cycle_and_the_committees(db: Database) -> None:
    ward_id, (first, second, third) = await _committee(db, 3)
    await _cycle(db, first, on_time=3, late=1, answered=4, lead_hours=30)
    await _cycle(db, second, on_time=1, late=2, answered=1, lead_hours=2)
    async with db.session() as session:  # the third cell has an empty December
        session.add(_period(third, 12, DEC_MEETING))

    async with db.session() as session:
        view = await committee.committee_month(session, ward_id, 2026, 12)
    figures = {line.cell.name: line.cycle for line in view.lines}
    assert figures[first.name].tasks == (3, 4)  # the cancelled task is left out
    assert figures[second.name].tasks == (1, 4)  # done late is not on time
    assert figures[third.name].tasks is None
    assert figures[first.name].answer_rate == 1.0 and figures[second.name].answer_rate == 0.25
    assert figures[third.name].answer_rate is None
    assert figures[first.name].documents_in_time is True  # 30 h ≥ the default 24 h
    assert figures[second.name].documents_in_time is False
    assert figures[third.name].documents_in_time is None
    assert view.tasks == (4, 8) and view.consultations == (2, 5, 8) and view.documents == (1, 2)

    text = "\n".join(await _officer_view(db, ward_id))
    t = Translator("vi")
    committee_lines = text.split("\n")[2:5]  # after the title and the confirmed count
    assert "4" in committee_lines[0] and "8" in committee_lines[0]
    assert t.percent(4 / 8) in committee_lines[0]
    assert "2" in committee_lines[1] and t.percent(5 / 8) in committee_lines[1]
    assert "1" in committee_lines[2] and "2" in committee_lines[2]
    lines = {line.split(" · ")[0].removeprefix("⬜ "): line for line in text.split("\n")}
    assert f"📌 3/4 · 💬 {t.percent(1)} · 📄 ✅" in lines[first.name]
    assert f"📌 1/4 · 💬 {t.percent(0.25)} · 📄 ❌" in lines[second.name]
    assert lines[third.name] == f"⬜ {third.name}"
    for secret in ("Đảng viên", "Bí mật", "Việc riêng", "Văn bản kín", "Tài liệu mật"):
        assert secret not in text  # names, comments and titles stay in the cell


async def test_two_hundred_cells_fit_each_channel(db: Database) -> None:
    ward_id, cells = await _committee(db, 200)
    for n, cell in enumerate(cells):
        await _cycle(
            db, cell, on_time=n % 4, late=1 if n % 4 < 3 else 0, answered=n % 5, lead_hours=n % 48
        )
    async with db.session() as session:
        view = await committee.committee_month(session, ward_id, 2026, 12)
    assert sum(1 for line in view.lines if line.cycle.tasks) == 200

    replies = await _officer_view(db, ward_id)
    text = "\n".join(replies)
    for cell in cells:
        assert (
            sum(
                1
                for line in text.split("\n")
                if f"{cell.name} " in line or line.endswith(cell.name)
            )
            == 1
        )
    for limit in (4096, 2000):  # Telegram, Zalo: parts that fit, no cell's line cut
        parts = [part.text for reply in replies for part in split_reply(Reply(reply), limit)]
        assert len(parts) > 1 and all(text_length(part) <= limit for part in parts)
        assert sorted(line for part in parts for line in part.split("\n") if line) == sorted(
            line for line in text.split("\n") if line
        )
