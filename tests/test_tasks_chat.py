"""The resolution and its tasks in chat: recording, the quick form, reports, refusals."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.services.runtime import Runtime
from storage.models import (
    AuditEntry,
    Notification,
    ResolutionTask,
    TaskAssignment,
    TaskStatus,
)
from tests.cellworld import (
    MEMBER_A,
    MEMBER_B,
    OTHER_MEMBER_A,
    SECRETARY_A,
    SECRETARY_B,
    build_world,
)


def _buttons(outcome, text: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [b.data for r in outcome.replies for row in r.buttons for b in row if text in b.label]


async def test_resolution_tasks_reports(runtime: Runtime) -> None:
    world = await build_world(runtime)
    out = await world.say(
        SECRETARY_A,
        "/resolution Nghị quyết tháng 12\nTập trung khắc phục hậu quả bão.\n"
        "Tuyên truyền lịch gieo trồng | tất cả | 20/12\n"
        "Vận động dọn vệ sinh | User 2, user 3 | 10/12/2026",
    )
    text = out.replies[0].text
    assert "2" in text, text
    print(text)
    async with runtime.db.session() as session:
        tasks = list(await session.scalars(select(ResolutionTask)))
        assignments = list(await session.scalars(select(TaskAssignment)))
        kinds = [n.kind for n in await session.scalars(select(Notification))]
    assert len(tasks) == 2
    assert len(assignments) == 3 + 2
    assert kinds.count("task_assigned") == 5
    out = await world.say(MEMBER_A, "/tasks")
    for r in out.replies:
        print(r.text, [b.label for row in r.buttons for b in row])
    ack = _buttons(out, "👍")
    assert len(ack) == 2
    out = await world.say(MEMBER_A, data=ack[0])
    print(out)
    done = _buttons(await world.say(MEMBER_A, "/tasks"), "✅")
    out = await world.say(MEMBER_A, data=done[0])
    print(out.replies[0].text)
    out = await world.say(MEMBER_A, "Đã làm xong với 12 hộ")
    print(out.replies[0].text)
    out = await world.say(SECRETARY_A, "/tasks")
    print(out.replies[0].text)
    who = [b.data for row in out.replies[0].buttons for b in row]
    out = await world.say(SECRETARY_A, data=who[0])
    print(out.replies[0].text)
    # another cell's secretary cannot see it
    out = await world.say(SECRETARY_B, data=who[0])
    assert out.notice and "không còn" in out.notice.lower() or print(out)
    out = await world.say(MEMBER_B, data=done[0])
    print(out)
    out = await world.say(SECRETARY_A, "/task Họp tổ | Ai Đó | 20/12\nX | tất cả | 40/12")
    print(out.replies[0].text)
    out = await world.say(SECRETARY_A, "/task delete 1")
    print(out.replies[0].text)
    out = await world.say(SECRETARY_A, "/task cancel 1 Bão lớn")
    print(out.replies[0].text)
    out = await world.say(SECRETARY_A, "/resolution Nghị quyết tháng 12 (sửa)\nNội dung mới")
    print(out.replies[0].text)
    async with runtime.db.session() as session:
        audits = [a.action for a in await session.scalars(select(AuditEntry))]
    print(audits)
    out = await world.say(MEMBER_A, "/resolution")
    print(out.replies[0].text)
