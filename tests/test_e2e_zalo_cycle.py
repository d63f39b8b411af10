"""End to end on Zalo: a member's part of the monthly cycle by numbers — accepting tasks
(several come in one notice), reporting one done with a typed note, and answering a draft
with a typed opinion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import fresh_database_url
from tests.deployment import deployed_zalo
from tests.test_e2e_zalo import FAST, query, zalo_sent

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
TOLD = "Nghị quyết chi bộ giao"


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    return {**FAST, "DATABASE_URL": await fresh_database_url(request.param, tmp_path)}


@pytest.mark.timeout(300)
async def test_a_member_on_zalo_accepts_reports_and_gives_an_opinion_by_numbers(
    tmp_path: Path, store: dict[str, str]
) -> None:
    async with deployed_zalo(tmp_path, store) as d:
        an = await d.zalo_secretary()
        binh = await d.zalo_member(an, "za200", "Trần Thị Bình")
        month_end = (datetime.now(UTC) + timedelta(days=5)).astimezone(HCM)
        await an.send(f"/open {month_end:%Y-%m-%d %H:%M}")
        await an.expect_message(contains="Đã mở đợt")
        due = (datetime.now(UTC) + timedelta(days=3)).astimezone(HCM)
        await an.send(
            "/resolution Nghị quyết khắc phục hậu quả bão\n"
            f"Vận động hộ dân dọn vệ sinh | Bình | {due:%d/%m/%Y}\n"
            f"Thăm hộ nghèo | Bình | {due + timedelta(days=1):%d/%m/%Y}"
        )
        await an.expect_message(contains="Đã ghi nghị quyết")

        # both tasks arrive in one notice, each with "Nhận nhiệm vụ" as a numbered option
        told = await binh.expect_message(contains=TOLD, timeout=30)
        assert "Vận động hộ dân dọn vệ sinh" in told.body and "Thăm hộ nghèo" in told.body
        assert binh.options(told) == ["👍 1 · Nhận nhiệm vụ", "👍 2 · Nhận nhiệm vụ"]
        assert len(told.body) <= 2000
        await binh.send("2")
        await binh.expect_message(contains="đồng chí nhận nhiệm vụ 2", strict=True)
        await binh.send("1")  # the notice's options still hold after the plain answer
        await binh.expect_message(contains="đồng chí nhận nhiệm vụ 1", strict=True)
        # reported done by number, then a typed note
        await binh.send("/tasks")
        await binh.expect_message(contains="Tình trạng: ⬜ chưa báo cáo")
        listing = await binh.expect_message(contains="Trả lời bằng số")
        assert "Nhận nhiệm vụ" not in listing.body  # both accepted
        await binh.choose("✅ 1 · Đã xong", listing)
        await binh.expect_message(contains="Đã ghi nhận: nhiệm vụ 1")
        await binh.send("Đã vận động 12 hộ")
        await binh.expect_message(contains="Đã lưu ghi chú")

        # a draft: "Ý kiến khác" by number, then the opinion typed
        deadline = month_end - timedelta(days=1)
        await an.send(f"/consult {deadline:%d/%m %H:%M} | Dự thảo nghị quyết: trồng lại cây")
        await an.expect_message(contains="Đang gửi dự thảo")
        draft = await binh.expect_message(contains="trồng lại cây", timeout=30)
        await binh.choose("Ý kiến khác", draft)
        await binh.expect_message(contains="gõ ý kiến")
        await binh.send("Đề nghị giao tổ 2 phụ trách")
        await binh.expect_message(contains="Đã ghi nhận: Ý kiến khác")
        await binh.resend()  # Zalo replays the opinion: nothing new, nothing changed
        await binh.expect_no_message(within=2)

        rows = await query(
            d,
            "SELECT t.description, a.status, a.note, a.acknowledged_at IS NOT NULL,"
            " a.done_at IS NOT NULL FROM task_assignments a"
            " JOIN resolution_tasks t ON t.id = a.task_id JOIN members m ON m.id = a.member_id"
            " WHERE m.full_name = 'Trần Thị Bình'",
        )
        assert sorted(rows) == [
            ("Thăm hộ nghèo", "open", None, True, False),
            ("Vận động hộ dân dọn vệ sinh", "done", "Đã vận động 12 hộ", True, True),
        ]
        answers = await query(
            d,
            "SELECT r.choice, r.comment FROM consultation_responses r"
            " JOIN members m ON m.id = r.member_id WHERE m.full_name = 'Trần Thị Bình'",
        )
        assert answers == [("other", "Đề nghị giao tổ 2 phụ trách")]
        # each notice once
        assert zalo_sent(d, binh, TOLD) == 1
        assert zalo_sent(d, binh, "trồng lại cây") == 1
