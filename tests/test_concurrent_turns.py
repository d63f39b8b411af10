"""Many members answering at the same moment on the default store (an SQLite file).

SQLite has one writer; before turns took the write lock up front and queued for it,
some of them failed with "database is locked" under this load (issue 8, item 1).
Not timed: it only checks that every turn succeeded and every answer was stored.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select

from bot.runtime import Runtime
from storage.models import Answer, Assessment, AssessmentState, Role
from tests.conftest import FakeClock
from tests.test_assessment import Chat, answer_all, join

MEMBERS = 50


async def test_concurrent_assessments_on_sqlite_all_succeed(
    runtime: Runtime, clock: FakeClock
) -> None:
    secretary = await join(runtime, "1", Role.SECRETARY)
    clock.now += timedelta(minutes=1)
    await secretary.say("/open 2026-12-05 19:30")
    members = [await join(runtime, str(100 + n)) for n in range(MEMBERS)]

    async def assess(chat: Chat) -> None:
        await answer_all(chat)
        await chat.press("Gửi bản tự đánh giá")
        assert "Đã gửi bản tự đánh giá" in chat.reply.text, chat.reply.text

    outcomes = await asyncio.gather(*(assess(m) for m in members), return_exceptions=True)
    failed = [f"{m.user}: {o!r}" for m, o in zip(members, outcomes, strict=True) if o is not None]
    assert not failed, f"{len(failed)} of {MEMBERS} members failed, e.g. {failed[:3]}"
    async with runtime.db.session() as session:
        submitted = await session.scalar(
            select(func.count(Assessment.id)).where(Assessment.state == AssessmentState.SUBMITTED)
        )
        answers = await session.scalar(select(func.count(Answer.id)))
    assert submitted == MEMBERS
    assert answers == MEMBERS * 16
