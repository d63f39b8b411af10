"""End to end: scheduled notifications from the real process(es) through the fake Bot API."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import POSTGRES_URL, reset_postgres
from tests.deployment import Deployment, deployed
from tests.harness import BotProcess, TelegramUser

FAST = {"SCHEDULER_INTERVAL_SECONDS": "1", "LOG_LEVEL": "INFO"}
HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def sent_to(d: Deployment, user: TelegramUser, contains: str) -> int:
    return sum(
        1
        for event in d.api.outbox
        if event.kind == "message"
        and event.chat_id == user.chat_id
        and contains in (event.message.text or "")
    )


async def members(d: Deployment, secretary: TelegramUser, count: int) -> list[TelegramUser]:
    await secretary.send(f"/invite {count} 7")
    invite = await secretary.expect_message(contains="Mã:")
    code = (invite.text or "").split("Mã: ")[1].split()[0]
    users = [TelegramUser(d.api, 1000 + n, f"Đảng viên {n}") for n in range(count)]
    for user in users:
        await user.send(f"/start {code}")
        await user.expect_message(contains="Chào mừng")
    return users


@pytest.mark.timeout(300)
async def test_restart_across_a_reminder_sends_it_once(tmp_path: Path) -> None:
    async with deployed(tmp_path, **FAST) as d:
        an = await d.secretary()
        binh, cuong = await members(d, an, 2)
        # the next whole minute whose 1-minute reminder is at least 20 s away
        local = datetime.now(UTC).astimezone(HCM) + timedelta(seconds=80)
        meeting = (local + timedelta(minutes=1)).replace(second=0, microsecond=0)
        await d.cli(
            "cell",
            "schedule",
            "Chi bộ khu Biểu Nghi",
            "--rule",
            f"day {meeting.day} {meeting:%H:%M}",
            "--reminders",
            "1m",
        )
        for user in (an, binh, cuong):  # the window (7 days before) is already open
            await user.expect_message(contains="Đã mở đợt tự đánh giá", timeout=15)
        await d.bot.stop()
        reminder_due = meeting - timedelta(minutes=1)
        await asyncio.sleep((reminder_due - datetime.now(UTC)).total_seconds() + 3)
        await d.bot.start(d.api)  # the bot was down when the reminder fell due
        for user in (an, binh, cuong):
            await user.expect_message(contains="Nhắc lịch", timeout=15)
        await asyncio.sleep(3)  # several more ticks
        for user in (an, binh, cuong):
            assert sent_to(d, user, "Nhắc lịch") == 1
            assert sent_to(d, user, "Đã mở đợt tự đánh giá") == 1


async def test_blocked_flood_controlled_and_failing_chats(tmp_path: Path) -> None:
    async with deployed(tmp_path, **FAST) as d:
        an = await d.secretary()
        blocked, flooded, failing = await members(d, an, 3)
        d.api.block(blocked.chat_id)
        d.api.fail("sendMessage", chat_id=flooded.chat_id, status=429, retry_after=1)
        d.api.fail("sendMessage", chat_id=failing.chat_id, status=502)
        deadline = (datetime.now(UTC) + timedelta(days=3)).astimezone(HCM)
        await an.send(f"/open {deadline:%Y-%m-%d %H:%M}")
        await an.expect_message(contains="Đã mở đợt")
        await flooded.expect_message(contains="Đã mở đợt tự đánh giá", timeout=15)
        await failing.expect_message(contains="Đã mở đợt tự đánh giá", timeout=30)
        notice = await an.expect_message(contains="không còn nhắn được", timeout=15)
        assert "Đảng viên 0" in (notice.text or "")
        await an.send("/remind")
        await an.expect_message(contains="Đã nhắc 4 đảng viên")  # the secretary answers too
        await flooded.expect_message(contains="⏰", timeout=15)
        await asyncio.sleep(3)
        assert sent_to(d, an, "không còn nhắn được") == 1
        assert sent_to(d, flooded, "Đã mở đợt tự đánh giá") == 1
        assert sent_to(d, failing, "Đã mở đợt tự đánh giá") == 1
        assert d.api.stats["429"] >= 1 and d.api.stats["502"] >= 1


async def test_two_processes_on_postgresql_never_send_twice(tmp_path: Path) -> None:
    await reset_postgres()
    async with (
        deployed(tmp_path, DATABASE_URL=POSTGRES_URL, **FAST) as d,
        BotProcess(d.env, args=("worker",), workdir=tmp_path / "worker") as worker,
    ):
        worker.launch()
        an = await d.secretary()
        users = await members(d, an, 40)
        await worker.wait_for_log("chibo worker is dispatching", timeout=30)
        deadline = (datetime.now(UTC) + timedelta(days=3)).astimezone(HCM)
        await an.send(f"/open {deadline:%Y-%m-%d %H:%M}")
        for user in users:
            await user.expect_message(contains="Đã mở đợt tự đánh giá", timeout=30)
        await an.send("/remind")
        for user in users:
            await user.expect_message(contains="⏰", timeout=30)
        await asyncio.sleep(4)
        for user in users:
            assert sent_to(d, user, "Đã mở đợt tự đánh giá") == 1
            assert sent_to(d, user, "⏰") == 1
        assert worker.running, worker.log_tail(20)


async def test_sigterm_mid_fan_out_loses_and_repeats_nothing(tmp_path: Path) -> None:
    async with deployed(tmp_path, **FAST) as d:
        an = await d.secretary()
        users = await members(d, an, 24)
        sent = d.api._builtin["sendmessage"]

        async def slowly(params: dict[str, object]) -> object:
            await asyncio.sleep(0.4)  # a slow network: the fan-out takes seconds
            return await sent(params)

        d.api.on("sendMessage", slowly)
        deadline = (datetime.now(UTC) + timedelta(days=3)).astimezone(HCM)
        await an.send(f"/open {deadline:%Y-%m-%d %H:%M}")
        await users[0].expect_message(contains="Đã mở đợt tự đánh giá", timeout=30)
        before = sum(sent_to(d, user, "Đã mở đợt tự đánh giá") for user in users)
        assert before < len(users)  # the fan-out is under way
        code = await d.bot.stop(timeout=30)  # SIGTERM in the middle of the fan-out
        assert code == 0, d.bot.log_tail()
        d.api.on("sendMessage", sent)
        await d.bot.start(d.api)
        await asyncio.sleep(4)  # several ticks of the restarted bot
        counts = [sent_to(d, user, "Đã mở đợt tự đánh giá") for user in users]
        assert counts == [1] * len(users), counts
