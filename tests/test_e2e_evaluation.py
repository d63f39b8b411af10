"""End to end: the secretary's summary, chart, yearly workbook and framework upload."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from openpyxl import load_workbook

from bot.rules.framework import default_framework_path
from tests.deployment import deployed
from tests.harness import TelegramUser


async def answer_all(user: TelegramUser) -> None:
    await user.send("/assess")
    await user.expect_message(contains="Câu 1/16")
    for _ in range(40):
        screen = user.last_message()
        assert screen is not None
        if "Xem lại" in (screen.text or ""):
            await user.press("Gửi bản tự đánh giá")
            await user.expect_edit(contains="Đã gửi")
            return
        options = [t for row in screen.buttons for t, d in row if ":ans:" in (d or "")]
        if options:
            await user.press(options[0])
            await user.expect_edit()
        else:
            await user.send("Không có ý kiến")
            await user.expect_message()
    raise AssertionError("no review")


async def test_summary_chart_and_year_workbook(tmp_path: Path) -> None:
    async with deployed(tmp_path, SCHEDULER_INTERVAL_SECONDS="1") as d:
        an = await d.secretary()
        deadline = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%d 19:30")
        await an.send(f"/open {deadline}")
        await an.expect_message(contains="Đã mở đợt")
        binh = await d.member(an, 200, "Bình")
        # the late joiner's opening notice must not land between the assessment's screens
        await binh.expect_message(contains="Đã mở đợt tự đánh giá", timeout=30)
        await answer_all(binh)
        await an.send("/summary")
        text = await an.expect_message(contains="tạm tính")
        assert "Tổng điểm" in (text.text or "")
        chart = await an.expect_message()
        assert chart.method == "sendPhoto" and (chart.photo_bytes or b"").startswith(b"\x89PNG")
        await an.press("Báo cáo năm")
        await an.expect_message(contains="Năm")
        await an.expect_message()  # the chart
        workbook = await an.expect_message()
        assert workbook.method == "sendDocument"
        assert len(load_workbook(io.BytesIO(workbook.document_bytes or b"")).sheetnames) == 2
        csv_file = await an.expect_message()
        assert (csv_file.document_bytes or b"").startswith(b"\xef\xbb\xbf")


async def test_secretary_uploads_a_framework_file(tmp_path: Path) -> None:
    async with deployed(tmp_path) as d:
        an = await d.secretary()
        data = yaml.safe_load(default_framework_path().read_text(encoding="utf-8"))
        data["version"] = 2
        data["groups"][0]["criteria"][0]["questions"][0]["text"]["vi"] = "Câu hỏi đã sửa"
        await an.send_document(
            yaml.safe_dump(data, allow_unicode=True).encode(), "bo-tieu-chi.yaml"
        )
        await an.expect_message(contains="thuộc bộ tiêu chí dùng chung")  # shipped code
        data["code"] = "tinh-ninh-binh"
        await an.send_document(
            yaml.safe_dump(data, allow_unicode=True).encode(), "bo-tieu-chi.yaml"
        )
        stored = await an.expect_message(contains="Đã lưu bộ tiêu chí")
        assert "phiên bản 2" in (stored.text or "")
        await an.send_document(b"# " + b"x" * (600 * 1024), "lon.yaml")
        await an.expect_message(contains="quá lớn (600 KB)")
        data["groups"][0]["weight"] = 31
        await an.send_document(yaml.safe_dump(data, allow_unicode=True).encode(), "sai.yaml")
        refused = await an.expect_message(contains="Không dùng được tệp bộ tiêu chí")
        assert "groups" in (refused.text or "")
        binh = await d.member(an, 200, "Bình")
        await binh.send_document(b"code: x", "x.yaml")
        await binh.expect_message(contains="chỉ đọc được")
