"""Meeting documents in chat, in process: files, the choice, refusals, a large cell's /docs."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

import handlers
from bot.core.chat import Attachment, ChatEvent, Outcome, split_reply
from bot.services.runtime import Runtime
from storage.models import MeetingDocument, Member, Notification
from tests.conftest import FakeClock
from tests.test_handlers import say, secretary, text_of

__all__ = ["secretary"]  # the fixture, shared with test_handlers


async def send_file(
    runtime: Runtime, user: str, name: str, size: int, caption: str | None = None
) -> Outcome:
    file = Attachment("document", name, b"", size=size, file_id=f"BQAC-{name}")
    event = ChatEvent("telegram", user, user, f"User {user}", None, document=file, caption=caption)
    return await handlers.handle(runtime, event)


async def counts(runtime: Runtime) -> tuple[int, int]:
    async with runtime.db.session() as session:
        documents = await session.scalar(select(func.count(MeetingDocument.id)))
        rows = await session.scalar(select(func.count(Notification.id)))
        return int(documents or 0), int(rows or 0)


async def add_members(runtime: Runtime, n: int) -> None:
    async with runtime.db.session() as session:
        cell = await session.scalar(select(Member.org_id).where(Member.role == "secretary"))
        assert cell is not None
        session.add_all(
            Member(org_id=cell, full_name=f"Nguyễn Thị Thanh Hương số {i:03d}") for i in range(n)
        )


async def test_files_with_a_caption_go_out_bad_ones_are_refused(
    runtime: Runtime, secretary: str, clock: FakeClock
) -> None:
    await add_members(runtime, 2)
    assert "chưa được mở" in text_of(
        await send_file(runtime, secretary, "nq.pdf", 10, "Nghị quyết")
    )
    await say(runtime, secretary, "/open")
    before = await counts(runtime)
    too_large = text_of(await send_file(runtime, secretary, "ban-do.pdf", 25 * 2**20, "Bản đồ"))
    assert "quá lớn (25 MB)" in too_large and "20 MB" in too_large
    unknown = text_of(await send_file(runtime, secretary, "app.apk", 100, "Ứng dụng"))
    assert "không gửi được loại tệp này (app.apk)" in unknown
    assert await counts(runtime) == before  # nothing stored, nothing queued
    sent = text_of(await send_file(runtime, secretary, "nq.pdf", 10, "Nghị quyết tháng 12"))
    assert "đang được gửi đến 2 đảng viên" in sent
    assert await counts(runtime) == (before[0] + 1, before[1] + 2)
    sent = text_of(await send_file(runtime, secretary, "x.yaml", 10, "/docs Bộ tiêu chí mới"))
    assert "không gửi được loại tệp này" in sent  # asked for /docs: not a framework upload


async def test_a_file_without_caption_waits_for_the_choice(
    runtime: Runtime, secretary: str
) -> None:
    await add_members(runtime, 1)
    await say(runtime, secretary, "/open")
    asked = await send_file(runtime, secretary, "de-cuong.docx", 1000)
    reply = asked.replies[0]
    assert "de-cuong.docx" in reply.text
    send, skip = (row[0].data for row in reply.buttons)
    assert await counts(runtime) == (1, 0)  # waiting, not sent
    assert (
        await say(runtime, secretary, data="ds:424242:y")
    ).notice == "Nút này không còn hiệu lực."
    declined = await say(runtime, secretary, data=skip)
    assert "Tệp không được gửi" in text_of(declined) and declined.replies[0].edit
    assert await counts(runtime) == (0, 0)
    assert (await say(runtime, secretary, data=send)).notice == "Nút này không còn hiệu lực."


async def test_a_large_cells_overview_fits_every_channel(
    runtime: Runtime, secretary: str, clock: FakeClock
) -> None:
    await add_members(runtime, 220)
    await say(runtime, secretary, "/open")
    await say(runtime, secretary, "/docs Nghị quyết tháng 12: https://example.org/nq.pdf")
    outcome = await say(runtime, secretary, "/docs")
    reply = outcome.replies[0]
    assert "đã đọc 0/220" in reply.text and "Chưa đọc (220):" in reply.text
    for limit in (4096, 2000):  # Telegram, Zalo
        parts = split_reply(reply, limit)
        assert len(parts) > 1 and all(len(p.text) <= limit for p in parts)
        shown = "\n".join(p.text for p in parts)
        assert all(f"Hương số {i:03d}" in shown for i in range(220))
    clock.now += timedelta(days=40)  # next month: the old documents are not this month's
    await say(runtime, secretary, "/open")
    assert "chưa có tài liệu" in text_of(await say(runtime, secretary, "/docs"))
