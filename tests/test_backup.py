"""`chibo backup` / `chibo restore`: a drill on each store while members answer."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import create_database, fetch, fresh_database_url, reset_postgres
from tests.deployment import deployed
from tests.fakebotapi import FakeBotAPI
from tests.harness import BotProcess, TelegramUser, arun_cli, bot_env
from tests.test_e2e_scheduler import members

DEADLINE = (datetime.now(UTC) + timedelta(days=5)).strftime("%Y-%m-%d 19:30")
FAST = {"SCHEDULER_INTERVAL_SECONDS": "1", "LOG_LEVEL": "INFO"}


async def keep_answering(user: TelegramUser, stop: asyncio.Event) -> None:
    """Answer question after question with the first option until told to stop."""
    await user.send("/assess")
    await user.expect_message(contains="Câu 1/16")
    while not stop.is_set():
        screen = user.last_message()
        options = [t for row in screen.buttons for t, data in row if ":ans:" in (data or "")]
        if not options:
            return
        await user.press(options[0])
        await user.expect_edit()


async def rows(url: str, sql: str) -> set[tuple[object, ...]]:
    return set(await fetch(url, sql))


async def empty_postgres_database(url: str) -> None:
    """The database of `url`, made if missing, with nothing in it."""
    await create_database(url)
    await reset_postgres(url)


ANSWERS = "SELECT assessment_id, question_id, value FROM answers"
SENT = "SELECT id, member_id, kind FROM notifications WHERE status = 'sent'"


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_a_backup_taken_while_members_answer_restores_everything(
    tmp_path: Path, backend: str
) -> None:
    url = await fresh_database_url(backend, tmp_path)
    restored_url = (
        f"sqlite+aiosqlite:///{tmp_path / 'restored.sqlite3'}"
        if backend == "sqlite"
        else make_url(url)
        .set(database=f"{make_url(url).database}_restore")
        .render_as_string(hide_password=False)
    )
    if backend == "postgresql":
        await empty_postgres_database(restored_url)
    file = tmp_path / ("chibo.backup" if backend == "postgresql" else "chibo-backup.sqlite3")
    async with deployed(tmp_path, DATABASE_URL=url, **FAST) as d:
        an = await d.secretary()
        users = await members(d, an, 3)
        await an.send(f"/open {DEADLINE}")
        for user in users:
            await user.expect_message(contains="Đã mở đợt tự đánh giá", timeout=30)
        stop = asyncio.Event()
        answering = [asyncio.create_task(keep_answering(u, stop)) for u in users]
        await asyncio.sleep(1.0)  # members are writing
        before_answers = await rows(url, ANSWERS)
        before_sent = await rows(url, SENT)
        backed = await d.cli("backup", str(file))  # while they go on
        stop.set()
        await asyncio.gather(*answering)
        assert "backed up" in backed and file.stat().st_size > 0
    assert before_answers and before_sent

    env = {**d.env, "DATABASE_URL": restored_url}
    restored = await arun_cli(["restore", str(file)], env, cwd=tmp_path)
    assert restored.returncode == 0, restored.stderr
    assert before_answers <= await rows(restored_url, ANSWERS)  # nothing answered is lost
    assert before_sent <= await rows(restored_url, SENT)
    again = await arun_cli(["restore", str(file)], env, cwd=tmp_path)
    assert again.returncode == 2  # never over data without --force
    assert "--force" in again.stderr, again.stderr  # and says how

    # the restored database serves: nothing already sent goes out again
    async with FakeBotAPI() as api:
        env = bot_env(api, tmp_path / "restored", DATABASE_URL=restored_url, **FAST)
        async with BotProcess(env, workdir=tmp_path / "restored") as bot:
            await bot.start(api)
            await asyncio.sleep(3)  # a few scheduler ticks
            opened = [c for c in api.calls_to("sendMessage") if "Đã mở đợt" in str(c.params)]
            assert opened == []


async def test_a_file_that_is_no_backup_is_refused(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}"}
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not a database at all")
    done = await arun_cli(["restore", str(junk)], env, cwd=tmp_path)
    assert done.returncode == 2 and "is not a SQLite backup" in done.stderr
    assert not (tmp_path / "x.sqlite3").exists()
    pg = {"DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:5432/nowhere"}
    done = await arun_cli(["restore", str(junk)], pg, cwd=tmp_path)
    assert done.returncode == 2 and "is not a pg_dump backup" in done.stderr
