"""What one assessment turn asks of the database machinery (issue 8, cost per update).

Not timed (timings live in `bench/`): these count the work that made a turn cost more
than it needs to, so that it does not come back unnoticed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from bot.services.runtime import Runtime
from storage import sqlite_driver
from storage.db import Database
from storage.models import Answer, Assessment
from tests.test_assessment import join, secretary  # noqa: F401 (a fixture)


@pytest.fixture
def flushed() -> Iterator[list[str]]:
    """The class names of the rows each ORM flush writes, while the test runs."""
    written: list[str] = []

    def before_flush(session: Session, *_: Any) -> None:
        written.extend(type(row).__name__ for row in session.dirty if session.is_modified(row))
        written.extend(type(row).__name__ for row in session.new)

    event.listen(Session, "before_flush", before_flush)
    yield written
    event.remove(Session, "before_flush", before_flush)


@pytest.mark.usefixtures("secretary")  # a cell with this month open
async def test_an_answer_writes_the_assessment_without_an_orm_flush(
    runtime: Runtime, flushed: list[str]
) -> None:
    member = await join(runtime, "7")
    await member.say("/assess")
    flushed.clear()
    first = next(b for row in member.reply.buttons for b in row if ":ans:" in b.data)
    await member.say(data=first.data)
    assert "Câu 2/16" in member.reply.text, member.reply.text
    assert flushed == []
    await member.say("/assess")  # the cursor was written: the member resumes at question 2
    assert "Câu 2/16" in member.reply.text, member.reply.text
    async with runtime.db.session() as session:
        assessment = await session.scalar(Assessment.__table__.select())
        answers = (await session.execute(Answer.__table__.select())).all()
    assert assessment is not None and len(answers) == 1


async def test_a_sqlite_statement_is_one_trip_to_the_driver_thread(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    trips: list[Any] = []
    call = sqlite_driver.OneTripConnection.call

    async def counted(self: sqlite_driver.OneTripConnection, function: Any, *args: Any) -> Any:
        trips.append(function)
        return await call(self, function, *args)

    monkeypatch.setattr(sqlite_driver.OneTripConnection, "call", counted)
    async with sqlite_db.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))  # opens the connection and its transaction
        trips.clear()
        rows = (await connection.execute(text("SELECT 1 UNION ALL SELECT 2"))).all()
    assert rows == [(1,), (2,)]
    assert len(trips) == 1
