"""End to end: a member's monthly self-assessment through the real bot process."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.deployment import Deployment, deployed
from tests.harness import TelegramUser

ASSESSMENT_DEADLINE = (datetime.now(UTC) + timedelta(days=5)).strftime("%Y-%m-%d 19:30")


def query(d: Deployment, sql: str) -> list[tuple[object, ...]]:
    path = d.env["DATABASE_URL"].removeprefix("sqlite+aiosqlite:///")
    with sqlite3.connect(path) as connection:
        return connection.execute(sql).fetchall()


FAST = {"SCHEDULER_INTERVAL_SECONDS": "1"}  # the opening notice comes within a second


async def open_month(d: Deployment) -> tuple[TelegramUser, TelegramUser]:
    an = await d.secretary()
    await an.send(f"/open {ASSESSMENT_DEADLINE}")
    await an.expect_message(contains="Đã mở đợt tự đánh giá")
    binh = await d.member(an, 200, "Bình")
    # a member who joins an open month is sent its opening notice by the next scheduler
    # tick; wait for it, so that it cannot land in the middle of the assessment's screens
    await binh.expect_message(contains="Đã mở đợt tự đánh giá", timeout=30)
    return an, binh


async def answer_until_review(user: TelegramUser) -> None:
    """Press the first option of each question; type the free text; stop at the review."""
    for _ in range(40):
        screen = user.last_message()
        assert screen is not None
        if "Xem lại" in (screen.text or ""):
            return
        options = [text for row in screen.buttons for text, data in row if ":ans:" in (data or "")]
        if options:
            await user.press(options[0])
            await user.expect_edit()
        else:
            await user.send("Không có đề xuất ạ")
            await user.expect_message()
    raise AssertionError("no review screen")


async def test_full_assessment_by_buttons_with_edit_and_submit(tmp_path: Path) -> None:
    async with deployed(tmp_path, **FAST) as d:
        an, binh = await open_month(d)
        await binh.send("/assess")
        first = await binh.expect_message(contains="Câu 1/16 · Nhóm 1:")
        assert first.button_texts[:4] == ["Xuất sắc", "Tốt", "Hoàn thành", "Không hoàn thành"]
        await binh.press("Không hoàn thành")
        why = await binh.expect_edit(contains="Xin đồng chí ghi ngắn gọn lý do")
        assert why.message_id == first.message_id
        await binh.send("Ốm cả tháng 🤒")
        await binh.expect_message(contains="Câu 2/16")
        await answer_until_review(binh)
        review = binh.last_message()
        assert review is not None and "Không hoàn thành — Ốm cả tháng 🤒" in (review.text or "")
        await binh.press("1")
        await binh.expect_edit(contains="Câu 1/16")
        await binh.press("Tốt")
        corrected = await binh.expect_edit(contains="Xem lại")
        assert "→ Tốt" in (corrected.text or "")
        await binh.press("Gửi bản tự đánh giá")
        await binh.expect_edit(contains="Đã gửi bản tự đánh giá")
        assert query(d, "select count(*) from answers") == [(16,)]
        assert query(d, "select state from assessments") == [("submitted",)]
        await an.send("/progress")
        progress = await an.expect_message(contains="Đã gửi: 1/2")
        assert "✅ Bình Trần — đã gửi" in (progress.text or "")


async def test_sigkill_mid_assessment_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    async with deployed(tmp_path, **FAST) as d:
        _an, binh = await open_month(d)
        await binh.send("/assess")
        await binh.expect_message(contains="Câu 1/16")
        for number in range(2, 7):
            screen = binh.last_message()
            assert screen is not None
            await binh.press(screen.button_texts[0])
            await binh.expect_edit(contains=f"Câu {number}/16")
        # every acknowledged answer is already committed
        assert query(d, "select count(*) from answers") == [(5,)]
        d.bot.kill()
        await d.bot.wait_exit(10)
        await d.bot.start(d.api)
        await binh.send("/assess")
        resumed = await binh.expect_message(contains="Câu 6/16")
        await binh.press(resumed.button_texts[0])
        await binh.expect_edit(contains="Câu 7/16")
        assert query(d, "select count(*), count(distinct question_id) from answers") == [(6, 6)]


async def test_pause_resume_and_forged_buttons(tmp_path: Path) -> None:
    async with deployed(tmp_path, **FAST) as d:
        an, binh = await open_month(d)
        await binh.send("/assess")
        question = await binh.expect_message(contains="Câu 1/16")
        await binh.press("Tạm dừng")
        await binh.expect_edit(contains="Đã tạm dừng")
        await binh.send("/assess")
        await binh.expect_message(contains="Câu 1/16")
        answer_data = next(data for row in question.buttons for _t, data in row if data)
        aid = answer_data.split(":")[2]
        await binh.press_data(f"as:ans:{aid}:1:bogus")
        await binh.expect_callback_answer(contains="không còn hiệu lực")
        await an.press_data(answer_data)  # the secretary forges the member's button
        await an.expect_callback_answer(contains="không còn hiệu lực")
        long_data = "as:ans:" + "9" * 80
        await binh.press_data(long_data[:64])
        await binh.expect_callback_answer(contains="không còn hiệu lực")
        assert query(d, "select count(*) from answers") == [(0,)]


async def test_after_the_deadline_answers_are_read_only(tmp_path: Path) -> None:
    async with deployed(tmp_path, **FAST) as d:
        _an, binh = await open_month(d)
        await binh.send("/assess")
        await binh.expect_message(contains="Câu 1/16")
        await binh.press("Tốt")
        await binh.expect_edit(contains="Câu 2/16")
        past = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M:%S")
        query(d, f"update periods set deadline_at = '{past}'")
        await binh.press("Tốt")
        await binh.expect_callback_answer(contains="đã đóng")
        await binh.send("/assess")
        closed = await binh.expect_message(contains="Xem lại")
        assert "Đã quá hạn chót" in (closed.text or "") and closed.buttons == []
        assert query(d, "select count(*) from answers") == [(1,)]


async def test_the_log_at_info_holds_no_names_and_no_answers(tmp_path: Path) -> None:
    async with deployed(tmp_path, SCHEDULER_INTERVAL_SECONDS="1", LOG_LEVEL="INFO") as d:
        an, binh = await open_month(d)
        await binh.send("/assess")
        await binh.expect_message(contains="Câu 1/16")
        await binh.press("Không hoàn thành")
        await binh.expect_edit(contains="Xin đồng chí ghi ngắn gọn lý do")
        await binh.send("Điều trị bệnh riêng tư ở viện K")
        await binh.expect_message(contains="Câu 2/16")
        await an.send("/progress")
        await an.expect_message(contains="Bình Trần")
        log = d.bot.log_text()
        assert "chibo is serving" in log  # the log is being written
        for private in ("Bình Trần", "An Nguyễn", "Điều trị bệnh riêng tư"):
            assert private not in log, private


async def test_sigterm_mid_turn_finishes_it_and_keeps_the_answer_once(tmp_path: Path) -> None:
    async with deployed(tmp_path, **FAST) as d:
        _, binh = await open_month(d)
        await binh.send("/assess")
        await binh.expect_message(contains="Câu 1/16")
        edit = d.api._builtin["editmessagetext"]
        replying = asyncio.Event()

        async def slowly(params: dict[str, object]) -> object:
            replying.set()
            await asyncio.sleep(2)  # a slow network: SIGTERM arrives while the turn replies
            return await edit(params)

        d.api.on("editMessageText", slowly)
        await binh.press("Tốt")
        await asyncio.wait_for(replying.wait(), timeout=15)
        code = await d.bot.stop(timeout=30)
        assert code == 0, d.bot.log_tail()
        assert "Traceback" not in d.bot.log_text()
        await binh.expect_edit(contains="Câu 2/16")  # the turn finished before the exit
        assert query(d, "SELECT count(*) FROM answers") == [(1,)]
        d.api.on("editMessageText", edit)
        await d.bot.start(d.api)
        await binh.send("/assess")
        await binh.expect_message(contains="Câu 2/16")  # resumes after the stored answer
        await binh.expect_no_message(within=3, include_edits=True)  # the press is not replayed
        assert query(d, "SELECT count(*) FROM answers") == [(1,)]
