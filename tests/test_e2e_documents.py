"""End to end: the meeting's documents through the real bot, on Telegram and on Zalo."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from tests.deployment import deployed, deployed_zalo
from tests.harness import TelegramUser

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
FAST = {"SCHEDULER_INTERVAL_SECONDS": "1"}
LINK = "https://example.org/nghi-quyet-12.pdf"


def read_data(message: object) -> str:
    """The callback data of a notice's "Read" button."""
    buttons = [d for row in getattr(message, "buttons", []) for _t, d in row]
    found = [d for d in buttons if d and d.startswith("dr:")]
    assert len(found) == 1, buttons
    return found[0]


async def answer_until(user: TelegramUser, header: str) -> str:
    """Answer each question with its first option until the question `header` shows."""
    await user.send("/assess")
    screen = await user.expect_message(contains="Câu 1/16")
    for _ in range(20):
        if header in (screen.text or ""):
            return screen.text or ""
        options = [t for row in screen.buttons for t, d in row if ":ans:" in (d or "")]
        await user.press(options[0])
        screen = await user.expect_edit()
    raise AssertionError(user.transcript())


async def test_documents_reach_every_member_once_and_fill_the_criterion(tmp_path: Path) -> None:
    async with deployed(tmp_path, **FAST) as d:
        an = await d.secretary()
        members = [
            await d.member(an, 200 + n, name) for n, name in enumerate(("Bình", "Cường", "Dũng"))
        ]
        binh, cuong, dung = members
        await an.send("/docs Tài liệu")
        await an.expect_message(contains="Tháng này chưa được mở")  # no month yet: how to open it
        meeting = (datetime.now(UTC) + timedelta(days=3)).astimezone(HCM)
        await an.send(f"/meeting {meeting:%Y-%m-%d %H:%M} | Nhà văn hóa khu")
        await an.expect_message(contains="Đã đặt lịch")
        await binh.send("/docs")
        await binh.expect_message(contains="Tháng này chưa có tài liệu")
        await binh.send("/docs Tài liệu của tôi")
        await binh.expect_message(contains="Chỉ bí thư")

        await an.send(f"/docs Nghị quyết tháng 12 của chi bộ: {LINK}")
        await an.expect_message(contains="đang được gửi đến 3 đảng viên")
        notices = [
            await m.expect_message(contains="Nghị quyết tháng 12", timeout=30) for m in members
        ]
        for notice in notices:
            assert LINK in (notice.text or "") and "Tài liệu sinh hoạt chi bộ tháng" in (
                notice.text or ""
            )
            assert notice.button_texts == ["✅ Đã đọc"]
        data = read_data(notices[0])
        await binh.press("Đã đọc")
        await binh.expect_callback_answer(contains="Đã ghi nhận")
        await binh.press_data(data, notices[0].message_id)  # a second tap changes nothing
        await binh.expect_callback_answer(contains="Đã ghi nhận")
        await cuong.press("Đã đọc")
        await cuong.expect_callback_answer(contains="Đã ghi nhận")
        await binh.press_data("dr:999999")  # forged
        await binh.expect_callback_answer(contains="không còn hiệu lực")

        await an.send("/docs")
        overview = await an.expect_message(contains="Tài liệu sinh hoạt chi bộ tháng")
        text = overview.text or ""
        assert "đã đọc 2/3" in text and "Đã đọc (2):" in text and "Chưa đọc (1):" in text
        assert "⬜ Dũng Trần" in text and "✅ Bình Trần" in text
        assert "Tài liệu đầu tiên được gửi trước buổi sinh hoạt" in text

        # a file without a caption: the secretary chooses; the members get the file itself
        await an.send_document(b"%PDF-1.4 tai lieu", "de-cuong.pdf", mime_type="application/pdf")
        choice = await an.expect_message(contains="de-cuong.pdf")
        await an.press("Tài liệu sinh hoạt")
        await an.expect_edit(contains="đang được gửi đến 3 đảng viên")
        files = [await m.expect_message(contains="de-cuong.pdf", timeout=30) for m in members]
        original = d.api.calls_to("sendDocument")[-1].params.get("document")
        assert all(f.method == "sendDocument" and f.document is not None for f in files)
        assert isinstance(original, str) and original.startswith("BQAC")  # re-sent by file_id
        await an.press_data(choice.buttons[0][0][1] or "", choice.message_id)  # a double tap
        await an.expect_callback_answer(contains="đã được gửi rồi")
        await an.send_document(b"MZ", "chuong-trinh.exe")
        await an.expect_message(contains="không gửi được loại tệp này")
        await an.send_document(b"code: x", "bo-tieu-chi.yaml")  # still a framework upload
        await an.expect_message(contains="Không dùng được tệp bộ tiêu chí")

        # another cell's member cannot read this cell's document
        other = await d.secretary(300, "Hà")
        outsider = await d.member(other, 400, "Lan")
        await outsider.press_data(data)
        await outsider.expect_callback_answer(contains="không còn hiệu lực")

        # every member got each document exactly once
        await binh.expect_no_message(within=3)
        for member in members:
            assert sum("Nghị quyết tháng 12" in (m.text or "") for m in member.messages) == 1
            assert sum((m.text or "").count("de-cuong.pdf") for m in member.messages) == 1

        # the cell criterion comes from the time the documents went out
        await an.send("/summary")
        await an.expect_message(contains="tạm tính")
        chart = await an.expect_message()
        await an.press(chart, text="Chi tiết")
        details = await an.expect_message(contains="Các tiêu chí tháng")
        assert "Chuẩn bị nội dung, gửi tài liệu trước ít nhất 1 ngày: 2/2" in (details.text or "")

        # a reader's self-assessment suggests "Có" for the documents question (Câu 7)
        question = await answer_until(binh, "Câu 7/16")
        assert 'Đồng chí đã bấm "Đã đọc" tài liệu lúc' in question
        assert "(1/2 tài liệu)" in question and "Gợi ý trả lời: Có" in question
        assert binh.last_message().button_texts[:2] == ["👉 Có", "Không"]
        unread = await answer_until(dung, "Câu 7/16")
        assert "Đã đọc" not in unread and dung.last_message().button_texts[:2] == ["Có", "Không"]


async def test_documents_on_zalo_are_read_by_number(tmp_path: Path) -> None:
    async with deployed_zalo(tmp_path, FAST) as d:
        an = await d.zalo_secretary()
        binh = await d.zalo_member(an, "za200", "Trần Thị Bình")
        deadline = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%d 19:30")
        await an.send(f"/open {deadline}")
        await an.expect_message(contains="Đã mở đợt tự đánh giá")
        await an.send(f"/docs Đề cương sinh hoạt chuyên đề: {LINK}")
        await an.expect_message(contains="đang được gửi đến 1 đảng viên")
        notice = await binh.expect_message(contains="Đề cương sinh hoạt chuyên đề", timeout=30)
        assert LINK in notice.body and binh.options(notice) == ["✅ Đã đọc"]
        assert len(notice.body) <= 2000
        await binh.send("1")
        await binh.expect_message(contains="Đã ghi nhận: đồng chí đã đọc tài liệu")
        await binh.send("/docs")
        mine = await binh.expect_message(contains="Đề cương sinh hoạt chuyên đề")
        assert "✅ Đồng chí đã đọc" in mine.body and not binh.options(mine)
        await an.send("/docs")
        overview = await an.expect_message(contains="đã đọc 1/1")
        assert "✅ Trần Thị Bình" in overview.body and "Chưa đọc (0):" in overview.body
