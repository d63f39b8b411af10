"""The self-assessment conversation through the neutral handlers, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

import handlers
from bot.core.chat import ChatEvent, Outcome, Reply
from bot.core.config import load_settings
from bot.rules.framework import default_framework_path, load_framework
from bot.services import membership
from bot.services.runtime import Runtime
from bot.services.setup import create_cell
from storage import frameworks as framework_store
from storage import orgs
from storage.db import Database
from storage.models import Answer, Assessment, Member, MemberStatus, Organization, OrgKind, Role
from tests.conftest import FakeClock


@dataclass
class Chat:
    runtime: Runtime
    user: str
    last: Outcome | None = None

    async def say(self, text: str | None = None, data: str | None = None) -> Outcome:
        event = ChatEvent("telegram", self.user, self.user, f"User {self.user}", "vi", text, data)
        self.last = await handlers.handle(self.runtime, event)
        return self.last

    @property
    def reply(self) -> Reply:
        assert self.last is not None and self.last.replies, self.last
        return self.last.replies[-1]

    def data_for(self, label: str) -> str:
        for row in self.reply.buttons:
            for button in row:
                if button.label == label or button.label.endswith(label):
                    return button.data
        raise AssertionError(f"no button {label!r} in {self.reply.buttons}")

    async def press(self, label: str) -> Outcome:
        return await self.say(data=self.data_for(label))


@pytest.fixture
async def runtime(db: Database, clock: FakeClock) -> AsyncIterator[Runtime]:
    settings = load_settings(database_url=db.url, _env_file=None)
    yield Runtime(settings, db, clock=clock, bot_username="chibo_test_bot")


async def join(runtime: Runtime, user: str, role: Role = Role.MEMBER) -> Chat:
    async with runtime.db.session() as session:
        cell = await orgs.find_by_name(session, "Chi bộ khu Biểu Nghi", OrgKind.CELL)
        if cell is None:
            committee = await orgs.create(session, "Đảng bộ phường Đông Mai", OrgKind.COMMITTEE)
            cell = await create_cell(
                session,
                "Chi bộ khu Biểu Nghi",
                committee,
                timezone="Asia/Ho_Chi_Minh",
                locale="vi",
            )
        code, _ = await membership.create_invite(
            session, cell, role, now=runtime.clock(), valid_for=timedelta(days=1)
        )
    chat = Chat(runtime, user)
    await chat.say(f"/start {code}")
    return chat


@pytest.fixture
async def secretary(runtime: Runtime, clock: FakeClock) -> Chat:
    chat = await join(runtime, "1", Role.SECRETARY)
    clock.now += timedelta(minutes=1)
    opened = await chat.say("/open 2026-12-05 19:30")
    assert "Đã mở đợt tự đánh giá tháng 12/2026" in chat.reply.text, opened
    return chat


async def answer_all(chat: Chat, *, low_first: bool = False) -> None:
    """Answer every question with its first option (or type text), until the review."""
    await chat.say("/assess")
    for _ in range(40):
        text = chat.reply.text
        if "Xem lại" in text:
            return
        if "lý do" in text and "Đồng chí trả lời" in text:
            await chat.say("Vì ốm")
            continue
        options = [b for row in chat.reply.buttons for b in row if ":ans:" in b.data]
        if options:
            choice = options[-1] if low_first else options[0]
            low_first = False
            await chat.say(data=choice.data)
        else:
            await chat.say("Không có đề xuất gì thêm ạ")
    raise AssertionError("the review never came")


async def count_answers(runtime: Runtime) -> int:
    async with runtime.db.session() as session:
        return int(await session.scalar(select(func.count(Answer.id))) or 0)


async def test_full_assessment_by_buttons_then_submit(runtime: Runtime, secretary: Chat) -> None:
    binh = await join(runtime, "2")
    await binh.say("/assess")
    assert binh.reply.text.startswith("Câu 1/16 · Nhóm 1: Thi đua, hoàn thành tốt nhiệm vụ")
    await answer_all(binh, low_first=True)
    review = binh.reply.text
    assert "Xem lại các câu trả lời tháng 12/2026" in review
    assert "1. " in review and "Không hoàn thành — Vì ốm" in review
    assert await count_answers(runtime) == 16
    await binh.press("Gửi bản tự đánh giá")
    assert "Đã gửi bản tự đánh giá tháng 12/2026" in binh.reply.text
    await secretary.say("/progress")
    progress = secretary.reply.text
    assert "Đã gửi: 1/2" in progress and "✅ User 2 — đã gửi" in progress


async def test_pause_and_resume_at_the_same_question(runtime: Runtime, secretary: Chat) -> None:
    binh = await join(runtime, "2")
    await binh.say("/assess")
    for _ in range(3):
        await binh.press("Có" if "Có" in str(binh.reply.buttons) else "Tốt")
    assert binh.reply.text.startswith("Câu 4/16")
    await binh.press("Tạm dừng")
    assert "Đã tạm dừng" in binh.reply.text and binh.reply.edit
    await binh.say("/status")
    assert "Đồng chí đã trả lời 3/16 câu" in binh.reply.text
    await binh.say("/assess")
    assert binh.reply.text.startswith("Câu 4/16")
    await secretary.say("/progress")
    assert "đang làm (3/16)" in secretary.reply.text


async def test_edit_from_review_and_back_button(runtime: Runtime, secretary: Chat) -> None:
    binh = await join(runtime, "2")
    await answer_all(binh)
    await binh.press("2")  # change question 2 from the review
    assert binh.reply.text.startswith("Câu 2/16") and "Đang trả lời: Xuất sắc" in binh.reply.text
    await binh.press("Tốt")
    assert "Xem lại" in binh.reply.text
    assert "→ Tốt" in binh.reply.text
    assert await count_answers(runtime) == 16


async def test_back_goes_to_the_previous_question(runtime: Runtime, secretary: Chat) -> None:
    binh = await join(runtime, "2")
    await binh.say("/assess")
    await binh.press("Xuất sắc")
    await binh.press("Quay lại")
    assert binh.reply.text.startswith("Câu 1/16") and "Đang trả lời: Xuất sắc" in binh.reply.text


async def test_double_tap_stores_one_answer(runtime: Runtime, secretary: Chat) -> None:
    binh = await join(runtime, "2")
    await binh.say("/assess")
    data = binh.data_for("Tốt")
    await binh.say(data=data)
    await binh.say(data=data)
    assert await count_answers(runtime) == 1
    assert binh.reply.text.startswith("Câu 2/16")


async def test_forged_and_stale_buttons_are_refused(runtime: Runtime, secretary: Chat) -> None:
    binh, cuong = await join(runtime, "2"), await join(runtime, "3")
    await binh.say("/assess")
    binh_data = binh.data_for("Tốt")
    aid, qid = binh_data.split(":")[2:4]
    forged = [
        f"as:ans:{aid}:{qid}:bogus",  # value not allowed
        f"as:ans:{aid}:999999:good",  # question not in the pinned framework
        f"as:ans:notanumber:{qid}:good",
        f"as:ans:{'9' * 40}:{qid}:good",  # beyond any integer column
        f"as:ans:{aid}:{'9' * 12}:good",
        "as:ans",
        f"as:frobnicate:{aid}:{qid}",
    ]
    for data in forged:
        outcome = await binh.say(data=data)
        assert outcome.notice is not None or "không còn hiệu lực" in binh.reply.text
    assert await count_answers(runtime) == 0
    stolen = await cuong.say(data=binh_data)  # another member's assessment
    assert stolen.notice == "Nút này không còn hiệu lực."
    assert await count_answers(runtime) == 0


async def test_typed_text_where_a_button_is_expected(runtime: Runtime, secretary: Chat) -> None:
    binh = await join(runtime, "2")
    await binh.say("/assess")
    outcome = await binh.say("tốt lắm")
    assert outcome.replies[0].text == "Đồng chí vui lòng chọn một trong các phương án."
    assert outcome.replies[1].text.startswith("Câu 1/16")
    assert await count_answers(runtime) == 0


async def test_unicode_text_is_stored_and_shown_exactly(runtime: Runtime, secretary: Chat) -> None:
    binh = await join(runtime, "2")
    await answer_all(binh)
    await binh.press("16")
    note = "Đề xuất: sửa đường ngõ 3 🙏🏼 — Nguyê\u0303n"
    await binh.say(note)
    assert note in binh.reply.text
    async with runtime.db.session() as session:
        assert note in list(await session.scalars(select(Answer.value)))


async def test_after_the_deadline_everything_is_read_only(
    runtime: Runtime, secretary: Chat, clock: FakeClock
) -> None:
    binh = await join(runtime, "2")
    await binh.say("/assess")
    data = binh.data_for("Tốt")
    clock.now += timedelta(days=10)  # past 5 Dec 19:30
    refused = await binh.say(data=data)
    assert refused.notice == "Đợt tự đánh giá tháng này đã đóng; không thể sửa câu trả lời nữa."
    await binh.say("/assess")
    assert "Đã quá hạn chót" in binh.reply.text
    await binh.say("Câu trả lời muộn")
    assert "chưa hiểu" in binh.reply.text
    assert await count_answers(runtime) == 0


async def test_submitted_buttons_are_closed_until_reopened(
    runtime: Runtime, secretary: Chat
) -> None:
    binh = await join(runtime, "2")
    await binh.say("/assess")
    old_button = binh.data_for("Tốt")
    await answer_all(binh)
    await binh.press("Gửi bản tự đánh giá")
    closed = await binh.say(data=old_button)
    assert closed.notice is not None and "đã được gửi" in closed.notice
    await binh.say("/assess")
    await binh.press("Sửa câu trả lời")
    await binh.press("1")
    await binh.press("Hoàn thành")
    assert "→ Hoàn thành" in binh.reply.text
    async with runtime.db.session() as session:
        assert await session.scalar(select(Assessment.state)) == "draft"


async def test_exempt_and_late_members_are_excused(
    runtime: Runtime, secretary: Chat, clock: FakeClock
) -> None:
    dung = await join(runtime, "4")
    async with runtime.db.session() as session:
        await session.execute(
            update(Member).where(Member.full_name == "User 4").values(status=MemberStatus.EXEMPT)
        )
    await dung.say("/assess")
    assert "được miễn công tác và sinh hoạt đảng" in dung.reply.text
    clock.now += timedelta(hours=1)
    late = await join(runtime, "5")
    await secretary.say("/progress")
    text = secretary.reply.text
    assert "➖ User 4 — miễn (được miễn sinh hoạt)" in text
    assert "➖ User 5 — miễn (vào chi bộ sau khi đợt đã mở)" in text
    assert "Đã gửi: 0/1" in text
    await late.say("/assess")
    assert late.reply.text.startswith("Câu 1/16")


async def test_a_period_keeps_its_framework_version(runtime: Runtime, secretary: Chat) -> None:
    binh = await join(runtime, "2")
    await binh.say("/assess")
    await binh.press("Tốt")
    spec = load_framework(default_framework_path())
    first_group = spec.groups[0].model_copy(update={"title": {"vi": "Nhóm mới"}})
    changed = spec.model_copy(
        update={"version": spec.version + 1, "groups": [first_group, *spec.groups[1:]]}
    )
    async with runtime.db.session() as session:
        stored, _ = await framework_store.store(session, changed)
        await session.execute(update(Organization).values(framework_id=stored.id))
    await binh.press("Tốt")
    assert binh.reply.text.startswith("Câu 3/16 · Nhóm 1: Thi đua")
    assert await count_answers(runtime) == 2


async def test_stranger_and_member_cannot_use_secretary_commands(
    runtime: Runtime, secretary: Chat, tmp_path: Path
) -> None:
    binh = await join(runtime, "2")
    await binh.say("/open 2026-12-20")
    assert "Chỉ bí thư" in binh.reply.text
    await binh.say("/progress")
    assert "Chỉ bí thư" in binh.reply.text
    await secretary.say("/open 2020-01-01")
    assert "hạn chót trong tương lai" in secretary.reply.text


async def test_review_with_long_reasons_fits_and_can_be_submitted(
    runtime: Runtime, secretary: Chat
) -> None:
    """Every answer that asks why gets a full-length reason: the review still fits a message."""
    limit = runtime.settings.max_text_length
    reason = ("Vì ốm nằm viện điều trị dài ngày, không tham gia được " * 40)[: limit - 1] + "Z"
    free_text = ("Đề xuất chi bộ tổ chức thêm buổi học tập nghị quyết " * 40)[:limit]
    binh = await join(runtime, "2")
    await binh.say("/assess")
    reasons = 0
    for _ in range(60):
        text = binh.reply.text
        if "Xem lại" in text:
            break
        if "lý do" in text and "Đồng chí trả lời" in text:
            await binh.say(reason)
            reasons += 1
            continue
        options = [b for row in binh.reply.buttons for b in row if ":ans:" in b.data]
        await binh.say(data=options[-1].data) if options else await binh.say(free_text)
    review = binh.reply
    assert "Xem lại" in review.text and reasons >= 10
    assert len(review.text) <= 4096, len(review.text)
    assert reason not in review.text and "Vì ốm nằm viện" in review.text and "…" in review.text
    assert all(len(line) <= 200 for line in review.text.splitlines())
    await binh.press("Gửi bản tự đánh giá")
    assert "Đã gửi bản tự đánh giá tháng 12/2026" in binh.reply.text
