"""Many members answering at the same moment on the default store (an SQLite file).

SQLite has one writer; before turns took the write lock up front and queued for it,
some of them failed with "database is locked" under this load (issue 8, item 1).
Not timed: it only checks that every turn succeeded and every answer was stored.
"""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.runtime import Runtime
from storage.db import Database
from storage.models import (
    Answer,
    Assessment,
    AssessmentState,
    Member,
    Organization,
    OrgKind,
    Role,
)
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


def _locked_error(path: str) -> OperationalError:
    """The error SQLite really raises when another connection holds the write lock."""
    holder = sqlite3.connect(path, isolation_level=None)
    waiter = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        holder.execute("BEGIN IMMEDIATE")
        with pytest.raises(sqlite3.OperationalError) as caught:
            waiter.execute("BEGIN IMMEDIATE")
    finally:
        holder.close()
        waiter.close()
    return OperationalError("BEGIN IMMEDIATE", None, caught.value)


async def test_a_unit_of_work_hit_by_a_lock_runs_again_and_counts_once(
    sqlite_db: Database,
) -> None:
    path = sqlite_db.url.split("///", 1)[1]
    locked = _locked_error(path)
    runs: list[int] = []

    async def work(session: AsyncSession) -> int:
        runs.append(1)
        session.add(Organization(name=f"Chi bộ {len(runs)}", kind=OrgKind.COMMITTEE))
        await session.flush()
        if len(runs) == 1:
            raise locked  # after a write: the retry must start from a clean slate
        return len(runs)

    assert await sqlite_db.retrying(work) == 2
    async with sqlite_db.session() as session:
        names = list(await session.scalars(select(Organization.name)))
    assert names == ["Chi bộ 2"]


async def test_other_errors_are_not_run_again(sqlite_db: Database) -> None:
    runs: list[int] = []

    async def work(session: AsyncSession) -> None:
        runs.append(1)
        session.add(Member(org_id=999_999, full_name="Không có chi bộ"))
        await session.flush()

    with pytest.raises(IntegrityError):
        await sqlite_db.retrying(work)
    assert len(runs) == 1
