"""End to end: opinions on a draft (/consult) through the real bot process and the fake Bot API."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.deployment import deployed
from tests.test_e2e_scheduler import FAST, members, sent_to

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
REMINDER = "Nhắc: chi bộ đang chờ ý kiến"
TALLY = "Đã hết hạn góp ý. Kết quả:"


@pytest.mark.timeout(300)
async def test_three_answers_a_reminder_and_the_tally(tmp_path: Path) -> None:
    async with deployed(tmp_path, **FAST) as d:
        an = await d.secretary()
        binh, cuong, dung = await members(d, an, 3)
        month_end = (datetime.now(UTC) + timedelta(days=3)).astimezone(HCM)
        await an.send(f"/open {month_end:%Y-%m-%d %H:%M}")
        await an.expect_message(contains="Đã mở đợt")
        # a deadline about a minute and a half away: the reminder falls halfway
        local = datetime.now(UTC).astimezone(HCM) + timedelta(seconds=90)
        deadline = (local + timedelta(minutes=1)).replace(second=0, microsecond=0)
        await an.send(
            f"/consult {deadline:%d/%m %H:%M} | Dự thảo nghị quyết: trồng lại cây sau bão"
        )
        await an.expect_message(contains="Đang gửi dự thảo tới 4 đảng viên")
        for user in (an, binh, cuong, dung):
            await user.expect_message(contains="trồng lại cây sau bão", timeout=15)

        await binh.press("👍 Đồng ý")
        await binh.expect_message(contains="Đã ghi nhận: Đồng ý")
        await cuong.press("👎 Không đồng ý")
        await cuong.expect_message(contains="Đã ghi nhận: Không đồng ý")
        await an.press("💬 Ý kiến khác")
        await an.expect_message(contains="gõ ý kiến")
        await an.send("Đề nghị giao tổ 2 phụ trách")
        await an.expect_message(contains="Đã ghi nhận: Ý kiến khác")

        await an.send("/consult")
        listing = await an.expect_message(contains="Góp ý dự thảo")
        assert "đã trả lời 3/4" in (listing.text or "")
        await an.press("👥 1")
        detail = await an.expect_message(contains="Ý kiến về dự thảo")
        assert "An Nguyễn: Đề nghị giao tổ 2 phụ trách" in (detail.text or ""), detail.text
        assert "Chưa trả lời (1)" in (detail.text or "")

        # the one reminder, to the one who has not answered
        await dung.expect_message(contains=REMINDER, timeout=90)
        seconds = (deadline - datetime.now(UTC)).total_seconds()
        tally = await an.expect_message(contains=TALLY, timeout=seconds + 30)
        text = tally.text or ""
        assert "Đồng ý 1 · Không đồng ý 1 · Ý kiến khác 1 · đã trả lời 3/4" in text, text
        assert "An Nguyễn: Đề nghị giao tổ 2 phụ trách" in text
        assert "Đảng viên 2" in text.split("Chưa trả lời")[1]  # dung
        await asyncio.sleep(3)  # several more ticks: nothing goes twice
        for user in (an, binh, cuong):
            assert sent_to(d, user, REMINDER) == 0
        assert sent_to(d, dung, REMINDER) == 1
        assert sent_to(d, an, TALLY) == 1
        for user in (binh, cuong, dung):
            assert sent_to(d, user, TALLY) == 0
        # after the deadline an answer changes nothing
        await dung.press("👍 Đồng ý")
        await dung.expect_message(contains="đã hết hạn góp ý")
