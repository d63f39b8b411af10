"""Summary, confirmation, reports and the committee view, through the chat handlers."""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy.pool import QueuePool

import handlers
from bot.core.chat import ChatEvent, Outcome
from bot.core.config import load_settings
from bot.render import charts
from bot.services import membership
from bot.services.runtime import Runtime
from bot.services.setup import create_cell
from storage import orgs
from storage.db import Database
from storage.models import OrgKind, Role
from tests.conftest import FakeClock
from tests.harness import arun_cli


@dataclass
class Chats:
    runtime: Runtime
    clock: FakeClock

    async def say(self, user: str, text: str | None = None, data: str | None = None) -> Outcome:
        event = ChatEvent("telegram", user, user, f"User {user}", "vi", text, data)
        return await handlers.handle(self.runtime, event)

    async def text(self, user: str, text: str | None = None, data: str | None = None) -> str:
        outcome = await self.say(user, text, data)
        return "\n".join(r.text for r in outcome.replies) + (outcome.notice or "")

    async def join(self, cell: str, user: str, role: Role = Role.MEMBER) -> None:
        async with self.runtime.db.session() as session:
            kind = OrgKind.COMMITTEE if role == Role.COMMITTEE_OFFICER else OrgKind.CELL
            org = await orgs.find_by_name(session, cell, kind)
            assert org is not None
            code, _ = await membership.create_invite(
                session, org, role, now=self.clock(), valid_for=timedelta(days=1)
            )
        await self.say(user, f"/start {code}")

    async def complete(self, user: str, *, worst: bool = False) -> None:
        outcome = await self.say(user, "/assess")
        for _ in range(40):
            reply = outcome.replies[-1]
            if "Xem lại" in reply.text:
                submit = [b for row in reply.buttons for b in row if ":submit:" in b.data]
                await self.say(user, data=submit[0].data)
                return
            options = [b for row in reply.buttons for b in row if ":ans:" in b.data]
            if "lý do" in reply.text and "trả lời:" in reply.text:
                outcome = await self.say(user, "Vì ốm")
            elif options:
                outcome = await self.say(user, data=(options[-1] if worst else options[0]).data)
            else:
                outcome = await self.say(user, "Không có ý kiến")
        raise AssertionError("no review")


@pytest.fixture
async def chats(db: Database, clock: FakeClock) -> AsyncIterator[Chats]:
    settings = load_settings(database_url=db.url, _env_file=None)
    runtime = Runtime(settings, db, clock=clock, bot_username="chibo_test_bot")
    async with db.session() as session:
        ward = await orgs.create(session, "Đảng bộ phường Đông Mai", OrgKind.COMMITTEE)
        for name in ("Chi bộ 1", "Chi bộ 2"):
            await create_cell(session, name, ward, timezone="Asia/Ho_Chi_Minh", locale="vi")
    chats = Chats(runtime, clock)
    await chats.join("Chi bộ 1", "1", Role.SECRETARY)
    await chats.join("Chi bộ 1", "2")
    await chats.join("Chi bộ 1", "3")
    await chats.join("Chi bộ 2", "9", Role.SECRETARY)
    await chats.join("Đảng bộ phường Đông Mai", "50", Role.COMMITTEE_OFFICER)
    clock.now += timedelta(minutes=1)
    await chats.say("1", "/open 2026-12-05 19:30")
    await chats.say("9", "/open 2026-12-05 19:30")
    yield chats


async def test_summary_text_and_chart(chats: Chats) -> None:
    await chats.complete("2")
    await chats.complete("3", worst=True)
    outcome = await chats.say("1", "/summary")
    text = outcome.replies[0].text
    assert "12/2026" in text
    assert "User 3" in text and "Vì ốm" in text  # a low answer with its comment
    photo = outcome.replies[1].attachment
    assert photo is not None and photo.kind == "photo" and photo.content[:8] == b"\x89PNG\r\n\x1a\n"
    buttons = [b.data for row in outcome.replies[1].buttons for b in row]
    assert any(d.startswith("ev:detail:") for d in buttons)
    detail = await chats.text("1", data=next(d for d in buttons if d.startswith("ev:detail:")))
    assert "chưa có dữ liệu" in detail or "no data" in detail or "⚠️" in detail


async def test_confirm_after_the_meeting_freezes_answers(chats: Chats, clock: FakeClock) -> None:
    await chats.complete("2")
    early = await chats.say("1", "/confirm")
    assert not any("ev:confirm" in b.data for row in early.replies[0].buttons for b in row)
    fact = next(b.data for row in early.replies[0].buttons for b in row if b.data.startswith("cf:"))
    toggled = await chats.say("1", data=fact)
    assert toggled.replies[0].edit and "✅" in toggled.replies[0].buttons[0][0].label
    clock.now = clock.now.replace(day=5, hour=13)  # after the meeting (12:30 UTC)
    ready = await chats.say("1", "/confirm")
    confirm = next(
        b.data for row in ready.replies[0].buttons for b in row if "ev:confirm" in b.data
    )
    done = await chats.text("1", data=confirm)
    assert "đã được xác nhận" in done or "confirmed" in done
    assert "sửa" in await chats.text("1", data=fact) or "reopen" in await chats.text("1", data=fact)
    assert "Đã quá hạn" in await chats.text("2", "/assess") or "đã đóng" in await chats.text(
        "2", "/assess"
    )
    assert "lý do" in await chats.text("1", "/reopen")
    reopened = await chats.text("1", "/reopen Nhập nhầm")
    assert "ghi lại" in reopened or "logged" in reopened


async def test_adjust_needs_a_valid_key_points_and_note(chats: Chats) -> None:
    usage = await chats.text("1", "/adjust g2_on_schedule 4")
    assert "/adjust" in usage
    assert "/adjust" in await chats.text("1", "/adjust nonexistent 4 ghi chú")
    assert "/adjust" in await chats.text("1", "/adjust g2_on_schedule 99 ghi chú")
    ok = await chats.text("1", "/adjust g2_on_schedule 4 Biên bản kèm theo")
    assert "g2_on_schedule" in ok


async def test_year_report_workbook_and_csv(chats: Chats) -> None:
    await chats.complete("2")
    outcome = await chats.say("1", "/report 2026")
    kinds = [r.attachment.kind for r in outcome.replies if r.attachment]
    assert kinds == ["photo", "document", "document"]
    xlsx = next(
        r.attachment
        for r in outcome.replies
        if r.attachment and r.attachment.filename.endswith(".xlsx")
    )
    assert xlsx is not None
    workbook = load_workbook(io.BytesIO(xlsx.content))
    assert len(workbook.sheetnames) == 2  # the year and December
    csv_file = next(
        r.attachment
        for r in outcome.replies
        if r.attachment and r.attachment.filename.endswith(".csv")
    )
    assert csv_file is not None and csv_file.content.startswith(b"\xef\xbb\xbf")
    assert "2025" in await chats.text("1", "/report 2025")  # no records that year


async def test_members_see_only_their_own_score(chats: Chats) -> None:
    assert "/assess" in await chats.text("2", "/score")
    await chats.complete("2")
    score = await chats.text("2", "/score")
    assert "điểm" in score or "points" in score
    assert "Chỉ bí thư" in await chats.text("2", "/summary")
    assert "Chỉ bí thư" in await chats.text("2", "/report")


async def test_secretary_cannot_touch_another_cells_month(chats: Chats) -> None:
    outcome = await chats.say("9", "/confirm")
    foreign = next(
        b.data for row in outcome.replies[0].buttons for b in row if b.data.startswith("cf:")
    )
    refused = await chats.say("1", data=foreign)
    assert refused.notice is not None and "không còn hiệu lực" in refused.notice
    pid = foreign.split(":")[1]
    for data in (f"ev:detail:{pid}", f"ev:confirm:{pid}"):
        assert "không còn hiệu lực" in ((await chats.say("1", data=data)).notice or "")


async def test_committee_sees_its_cells_not_members(chats: Chats, clock: FakeClock) -> None:
    await chats.complete("2")
    clock.now = clock.now.replace(day=5, hour=13)
    ready = await chats.say("1", "/confirm")
    confirm = next(
        b.data for row in ready.replies[0].buttons for b in row if "ev:confirm" in b.data
    )
    await chats.say("1", data=confirm)
    view = await chats.text("50", "/cells")
    assert "Chi bộ 1" in view and "Chi bộ 2" in view
    assert "1. " in view and "User 2" not in view
    assert "cán bộ" in await chats.text("1", "/cells") or "committee" in await chats.text(
        "1", "/cells"
    )
    assert "chi bộ" in await chats.text("50", "/assess")


async def test_cli_export_writes_the_same_workbook(chats: Chats, tmp_path: Path) -> None:
    await chats.complete("2")
    env = {"DATABASE_URL": chats.runtime.db.url, "TELEGRAM_BOT_TOKEN": ""}
    out = tmp_path / "nam-2026.xlsx"
    done = await arun_cli(
        ["export", "--cell", "Chi bộ 1", "--year", "2026", "--out", str(out)], env, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "1 months" in done.stdout
    assert len(load_workbook(out).sheetnames) == 2
    missing = await arun_cli(
        ["export", "--cell", "Chi bộ 1", "--year", "2024", "--out", str(out)], env, cwd=tmp_path
    )
    assert missing.returncode == 2 and "no records" in missing.stderr


async def test_committee_sees_each_cells_year(chats: Chats, clock: FakeClock) -> None:
    await chats.complete("2")
    view = await chats.text("50", "/cells 2026")
    assert "Chi bộ 1" in view and "Chi bộ 2" in view and "2026" in view
    assert "User 2" not in view
    assert "2031" in await chats.text("50", "/cells 2031")  # no records that year


async def test_members_are_answered_while_a_report_is_drawn(
    chats: Chats, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The year's chart is drawn off the event loop, after the report's transaction closed."""
    await chats.complete("2")
    question = await chats.say("3", "/assess")
    option = next(b.data for row in question.replies[-1].buttons for b in row if ":ans:" in b.data)
    started, release = threading.Event(), threading.Event()
    draw = charts.group_chart_png

    def slow_chart(*args: Any) -> bytes:
        started.set()
        if not release.wait(timeout=5):
            raise TimeoutError("nobody released the chart: it blocked the event loop")
        return draw(*args)

    monkeypatch.setattr(charts, "group_chart_png", slow_chart)
    report = asyncio.create_task(chats.say("1", "/report 2026"))
    assert await asyncio.to_thread(started.wait, 10)
    answered = await asyncio.wait_for(chats.say("3", data=option), timeout=5)
    assert not report.done()
    assert "Câu 2/16" in answered.replies[-1].text
    pool = chats.runtime.db.engine.pool
    assert isinstance(pool, QueuePool) and pool.checkedout() == 0  # no transaction while drawing
    release.set()
    outcome = await report
    kinds = [r.attachment.kind for r in outcome.replies if r.attachment]
    assert kinds == ["photo", "document", "document"]
