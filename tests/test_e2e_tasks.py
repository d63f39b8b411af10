"""End to end: a resolution with three tasks, the members' reports, the next month's
suggested answer and the year workbook's sheet of resolutions and tasks."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from tests.deployment import deployed

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def _day(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).astimezone(ZONE).strftime("%d/%m/%Y")


async def test_resolution_tasks_reports_suggestion_and_workbook(tmp_path: Path) -> None:
    async with deployed(tmp_path, SCHEDULER_INTERVAL_SECONDS="1") as d:
        an = await d.secretary()
        await an.send("/open")
        await an.expect_message(contains="Đã mở đợt")
        binh = await d.member(an, 200, "Bình")
        cuong = await d.member(an, 201, "Cường")

        await an.send(
            "/resolution Nghị quyết khắc phục hậu quả bão\n"
            "Toàn chi bộ tập trung giúp dân.\n"
            f"Tuyên truyền lịch gieo trồng | tất cả | {_day(2)}\n"
            f"Vận động hộ dân dọn vệ sinh | Bình Trần | {_day(3)}\n"
            f"Thăm hộ nghèo | Bình Trần, Cường Trần | {_day(4)}"
        )
        await an.expect_message(contains="Đã ghi nghị quyết")
        await an.send("/task Việc khác | Ai Đó | 40/13")
        refused = await an.expect_message(contains="Chưa lưu gì cả")
        assert 'không có đảng viên nào tên "Ai Đó"' in (refused.text or "")

        # each assignee is told once, all their tasks in one notice, "Nhận nhiệm vụ" for each
        told = await binh.expect_message(contains="Nghị quyết chi bộ giao", timeout=30)
        assert "giao cho đồng chí 3 nhiệm vụ" in (told.text or ""), told.text
        assert told.button_texts == [f"👍 {n} · Nhận nhiệm vụ" for n in (1, 2, 3)]
        await binh.press("👍 2 · Nhận nhiệm vụ", message=told)
        await binh.expect_callback_answer(contains="đồng chí nhận nhiệm vụ 2")
        both = await cuong.expect_message(contains="Thăm hộ nghèo", timeout=30)
        assert "giao cho đồng chí 2 nhiệm vụ" in (both.text or "")  # tasks 1 and 3

        # Bình reports all three done, with a note on one; Cường cannot yet
        for number in (1, 2, 3):
            await binh.send("/tasks")
            task = await binh.expect_message(contains="Tình trạng: ⬜ chưa báo cáo")
            await binh.press(f"{number_on(task)} · Đã xong", message=task)
            await binh.expect_message(contains="Đã ghi nhận: nhiệm vụ")
            if number == 1:
                await binh.send("Đã nói chuyện với 12 hộ")
                await binh.expect_message(contains="Đã lưu ghi chú")
            else:
                await binh.press("Không ghi chú")
                await binh.expect_message(contains="Cảm ơn đồng chí")
        await binh.send("/tasks")
        await binh.expect_message(contains="Đồng chí đã hoàn thành mọi nhiệm vụ")
        await cuong.send("/tasks")
        task = await cuong.expect_message(contains="Tình trạng")
        await cuong.press(f"{number_on(task)} · Chưa làm được", message=task)
        await cuong.expect_message(contains="Chưa làm được")

        for user in (binh, cuong):  # told once, never again
            assert sum("Nghị quyết chi bộ giao" in (m.text or "") for m in user.messages) == 1

        # the secretary sees every task, and who finished one and when
        await an.send("/tasks")
        overview = await an.expect_message(contains="Nghị quyết tháng")
        assert "✅ 1/1 đã xong" in (overview.text or "")  # task 2: only Bình
        await an.press("👥 1", message=overview)  # Cường's first task is task 1 (due first)
        detail = await an.expect_message(contains="Nhiệm vụ 1")
        lines = (detail.text or "").splitlines()
        assert lines[2].startswith("✅ Bình Trần — ")  # with when
        assert lines[3:] == ["❌ Cường Trần", "⬜ An Nguyễn"]

        # the next month: the question on tasks shows Bình's record and suggests the top level
        start = datetime.now(ZONE).replace(day=1) + timedelta(days=32)
        deadline = start.replace(day=10).strftime("%Y-%m-%d 19:30")
        await an.send(f"/open {deadline}")
        await an.expect_message(contains="Đã mở đợt")
        await binh.send("/assess")
        question = await binh.expect_message(contains="Nhiệm vụ của đồng chí theo nghị quyết")
        text = question.text or ""
        assert text.count("xong đúng hạn") == 3, text
        assert "Gợi ý trả lời: Xuất sắc" in text
        assert any("👉 Xuất sắc" in label for row in question.buttons for label, _d in row)
        await binh.press("Tốt", message=question)  # lower than suggested: asks why
        await binh.expect_edit(contains="lý do")

        # the year workbook has the sheet of resolutions and tasks
        await an.send(f"/report {datetime.now(ZONE).year}")
        workbook = None
        for _ in range(5):
            message = await an.expect_message()
            if message.method == "sendDocument" and (message.document_bytes or b"")[:2] == b"PK":
                workbook = message
                break
        assert workbook is not None
        book = load_workbook(io.BytesIO(workbook.document_bytes or b""))
        assert "Nghị quyết và nhiệm vụ" in book.sheetnames
        sheet = book["Nghị quyết và nhiệm vụ"]
        rows = [tuple(row) for row in sheet.iter_rows(min_row=5, values_only=True)]
        by_task = {row[3]: row for row in rows if row[3]}
        assert set(by_task) == {
            "Tuyên truyền lịch gieo trồng",
            "Vận động hộ dân dọn vệ sinh",
            "Thăm hộ nghèo",
        }
        # assigned, done, on time, in progress, not able, not reported
        assert by_task["Tuyên truyền lịch gieo trồng"][5:11] == (3, 1, 1, 0, 1, 1)
        assert by_task["Thăm hộ nghèo"][5:11] == (2, 1, 1, 0, 0, 1)
        assert by_task["Vận động hộ dân dọn vệ sinh"][11] == 1  # done on time: 100 %


def number_on(task: object) -> str:
    """The task's number, from "Nhiệm vụ N theo nghị quyết…"."""
    text = getattr(task, "text", "") or ""
    return text.split("Nhiệm vụ ")[1].split()[0]
