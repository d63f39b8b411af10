"""End to end on Telegram: the resolution as a file (caption `/resolution TITLE`), with its
task lines in the caption; a file too large or of an unknown kind is refused and changes
nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from tests.conftest import fetch
from tests.deployment import Deployment, deployed

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
PDF = b"%PDF-1.4 nghi quyet chi bo"


async def resolutions(d: Deployment) -> list[tuple[object, ...]]:
    return await fetch(
        d.env["DATABASE_URL"],
        "SELECT title, file_name, mime_type, file_size, file_id IS NOT NULL FROM resolutions",
    )


async def test_the_resolution_as_a_file_and_the_files_refused(tmp_path: Path) -> None:
    async with deployed(tmp_path, SCHEDULER_INTERVAL_SECONDS="1") as d:
        an = await d.secretary()
        await an.send("/open")
        await an.expect_message(contains="Đã mở đợt")
        binh = await d.member(an, 200, "Bình")
        await binh.expect_message(contains="Đã mở đợt", timeout=30)
        due = (datetime.now(UTC) + timedelta(days=3)).astimezone(ZONE)

        # refused: too large (Telegram reports the size; chibo does not fetch it), unknown kind
        caption = f"/resolution Nghị quyết tháng 12\nDọn vệ sinh | Bình Trần | {due:%d/%m/%Y}"
        await an.send_document(
            PDF, "nghi-quyet.pdf", caption, "application/pdf", file_size=25 * 2**20
        )
        await an.expect_message(contains="Tệp này quá lớn (25 MB; tối đa 20 MB)")
        await an.send_document(b"MZ", "chuong-trinh.exe", caption)
        await an.expect_message(contains="chibo không lưu được loại tệp này (chuong-trinh.exe)")
        assert await resolutions(d) == []
        await binh.expect_no_message(within=2)  # no task was assigned

        # the file with its caption: recorded with its task, the member told once
        await an.send_document(PDF, "nghi-quyet.pdf", caption, "application/pdf")
        done = await an.expect_message(contains="Đã ghi nghị quyết")
        assert "1 nhiệm vụ" in (done.text or ""), done.text
        assert await resolutions(d) == [
            ("Nghị quyết tháng 12", "nghi-quyet.pdf", "application/pdf", len(PDF), True)
        ]
        told = await binh.expect_message(contains="Nghị quyết chi bộ giao", timeout=30)
        assert "Dọn vệ sinh" in (told.text or "")

        # the member reads it: the file itself, with the title
        await binh.send("/resolution")
        shown = await binh.expect_message(contains="Nghị quyết tháng 12")
        assert shown.method == "sendDocument" and shown.document_bytes == PDF
        assert "Dọn vệ sinh" in (shown.text or "")

        # a refused file later leaves the recorded one as it was
        await an.send_document(b"MZ", "khac.exe", "/resolution Nghị quyết khác")
        await an.expect_message(contains="không lưu được loại tệp này")
        assert (await resolutions(d))[0][:2] == ("Nghị quyết tháng 12", "nghi-quyet.pdf")
        await binh.expect_no_message(within=2)
        assert sum("Nghị quyết chi bộ giao" in (m.text or "") for m in binh.messages) == 1
