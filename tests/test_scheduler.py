"""Planning and dispatching notifications, with an injected clock, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

import handlers
from bot.core.chat import ChatEvent, Reply
from bot.core.config import load_settings
from bot.services import membership
from bot.services.meetings import set_rule
from bot.services.notify import Delivery, Dispatcher, SendResult
from bot.services.planner import Kind, plan_all
from bot.services.runtime import Runtime
from bot.services.setup import create_cell
from handlers import notices
from storage import orgs
from storage.db import Database
from storage.models import (
    Excusal,
    Member,
    MemberStatus,
    Notification,
    NotificationStatus,
    Organization,
    OrgKind,
    Role,
)
from tests.conftest import FakeClock

HCM = "Asia/Ho_Chi_Minh"
# "day 5 19:30" in Ho Chi Minh City: the December 2026 meeting is 5 Dec 12:30 UTC,
# the window opens 28 Nov 07:00 local = 00:00 UTC, reminders 3d / 1d / 2h before.
MEETING = datetime(2026, 12, 5, 12, 30, tzinfo=UTC)
WINDOW_OPENS = datetime(2026, 11, 28, 0, 0, tzinfo=UTC)


@dataclass
class FakeSender:
    """Records deliveries; chats listed in `blocked` answer like Telegram's 403."""

    channel: str = "telegram"
    sent: list[tuple[str, str]] = field(default_factory=list)
    blocked: set[str] = field(default_factory=set)
    flaky: dict[str, int] = field(default_factory=dict)  # chat → failures before success

    async def send(self, chat_id: str, reply: Reply, locale: str | None = None) -> SendResult:
        await asyncio.sleep(0)
        if chat_id in self.blocked:
            return SendResult(Delivery.UNREACHABLE, error="Forbidden: bot was blocked by the user")
        if self.flaky.get(chat_id, 0) > 0:
            self.flaky[chat_id] -= 1
            return SendResult(Delivery.RETRY, retry_after=3, error="Too Many Requests")
        self.sent.append((chat_id, reply.text))
        return SendResult(Delivery.SENT)

    def to(self, chat_id: str) -> list[str]:
        return [text for chat, text in self.sent if chat == chat_id]


@dataclass
class Cell:
    runtime: Runtime
    clock: FakeClock
    sender: FakeSender
    dispatcher: Dispatcher

    async def tick(self) -> None:
        async with self.runtime.db.session() as session:
            await plan_all(session, self.clock())
        await self.dispatcher.run_once()

    async def say(self, user: str, text: str | None = None, data: str | None = None) -> str:
        event = ChatEvent("telegram", user, user, f"User {user}", "vi", text, data)
        outcome = await handlers.handle(self.runtime, event)
        return "\n".join(r.text for r in outcome.replies) + (outcome.notice or "")


async def join(runtime: Runtime, cell: Organization, user: str, role: Role = Role.MEMBER) -> None:
    async with runtime.db.session() as session:
        code, _ = await membership.create_invite(
            session, cell, role, now=runtime.clock(), valid_for=timedelta(days=1)
        )
    await handlers.handle(
        runtime, ChatEvent("telegram", user, user, f"User {user}", "vi", f"/start {code}")
    )


@pytest.fixture
async def cell(db: Database) -> AsyncIterator[Cell]:
    clock = FakeClock(WINDOW_OPENS - timedelta(days=2))
    settings = load_settings(database_url=db.url, _env_file=None)
    runtime = Runtime(settings, db, clock=clock)
    async with db.session() as session:
        committee = await orgs.create(session, "Đảng bộ phường Đông Mai", OrgKind.COMMITTEE)
        org = await create_cell(
            session, "Chi bộ khu Biểu Nghi", committee, timezone=HCM, locale="vi"
        )
        await set_rule(session, org, "ngày 5 19:30", clock())
    await join(runtime, org, "1", Role.SECRETARY)
    for user in ("2", "3", "4"):
        await join(runtime, org, user)
    async with db.session() as session:
        await session.execute(
            update(Member).where(Member.full_name == "User 4").values(status=MemberStatus.EXEMPT)
        )
    sender = FakeSender()
    dispatcher = Dispatcher(db, {sender.channel: sender}, render=notices.render, clock=clock)
    yield Cell(runtime, clock, sender, dispatcher)


async def statuses(db: Database, kind: str) -> dict[str, int]:
    async with db.session() as session:
        rows = await session.execute(
            select(Notification.status, func.count())
            .where(Notification.kind == kind)
            .group_by(Notification.status)
        )
        return {status: count for status, count in rows.all()}


async def test_nothing_before_the_window_opens(cell: Cell) -> None:
    await cell.tick()
    assert cell.sender.sent == []


async def test_window_opens_once_for_members_who_must_answer(cell: Cell) -> None:
    cell.clock.now = WINDOW_OPENS + timedelta(minutes=1)
    await cell.tick()
    await cell.tick()
    opened = [
        chat for chat, text in cell.sender.sent if "Đã mở đợt tự đánh giá tháng 12/2026" in text
    ]
    assert sorted(opened) == ["1", "2", "3"]  # the exempt member 4 is not asked
    assert "Hạn chót: 19:30 ngày 5/12/2026" in cell.sender.to("2")[0]
    assert "Thời gian: 19:30, Thứ Bảy, 5 tháng 12, 2026" in cell.sender.to("2")[0]


async def test_reminders_reach_everyone_and_carry_the_nudge(cell: Cell) -> None:
    cell.clock.now = WINDOW_OPENS + timedelta(minutes=1)
    await cell.tick()
    await cell.say("2", "/assess")
    for _ in range(16):  # member 2 submits everything
        text = await cell.say("2", "/assess")
        if "Xem lại" in text:
            break
    cell.sender.sent.clear()
    cell.clock.now = MEETING - timedelta(days=3) + timedelta(seconds=5)
    await cell.tick()
    reminded = {chat for chat, text in cell.sender.sent if "Nhắc lịch" in text}
    assert reminded == {"1", "2", "3", "4"}  # exempt members are told of the meeting too
    assert "chưa hoàn thành bản tự đánh giá" in cell.sender.to("3")[0]
    assert "chưa hoàn thành" not in cell.sender.to("4")[0]
    assert len(cell.sender.to("3")) == 1  # the nudge rides on the reminder: one message


async def test_restart_sends_what_is_still_useful_and_drops_the_rest(cell: Cell) -> None:
    cell.clock.now = WINDOW_OPENS + timedelta(minutes=1)
    await cell.tick()
    cell.sender.sent.clear()
    # the bot was down from before the 1-day reminder until after the 2-hour one
    cell.clock.now = MEETING - timedelta(hours=1)
    await cell.tick()
    texts = cell.sender.to("2")
    assert len([t for t in texts if "Nhắc lịch" in t]) == 1  # only the latest of those missed
    cell.sender.sent.clear()
    await cell.tick()
    assert cell.sender.sent == []  # never twice
    cell.clock.now = MEETING + timedelta(minutes=5)
    await cell.tick()
    assert not any("Nhắc lịch" in t for _c, t in cell.sender.sent)


async def test_reminder_after_the_meeting_started_is_dropped(cell: Cell) -> None:
    cell.clock.now = WINDOW_OPENS + timedelta(minutes=1)
    await cell.tick()
    cell.clock.now = MEETING + timedelta(minutes=1)  # down across every reminder
    cell.sender.sent.clear()
    await cell.tick()
    assert not any("Nhắc lịch" in t for _c, t in cell.sender.sent)
    assert (await statuses(cell.runtime.db, Kind.MEETING_REMINDER)).get("dropped") == 12


async def test_moved_meeting_voids_old_reminders_and_tells_everyone(cell: Cell) -> None:
    cell.clock.now = MEETING - timedelta(days=3) + timedelta(minutes=1)
    await cell.tick()  # window open + 3-day reminder sent
    cell.sender.sent.clear()
    moved = await cell.say(
        "1", "/meeting 2026-12-04 08:00 | Nhà văn hóa khu 3 | Nghị quyết tháng 12"
    )
    assert "đang báo cho tất cả 4 đảng viên" in moved
    await cell.tick()
    notices_sent = [c for c, t in cell.sender.sent if "vừa được đặt hoặc thay đổi" in t]
    assert sorted(notices_sent) == ["1", "2", "3", "4"]
    assert "Địa điểm: Nhà văn hóa khu 3" in cell.sender.to("2")[0]
    assert len(cell.sender.to("2")) == 1  # the new 3-day reminder's time had passed: not sent late
    cell.sender.sent.clear()
    cell.clock.now = datetime(2026, 12, 3, 1, 0, tzinfo=UTC) + timedelta(seconds=1)  # 1 day before
    await cell.tick()
    assert len([c for c, t in cell.sender.sent if "Nhắc lịch" in t]) == 4
    cell.clock.now = MEETING - timedelta(days=1) + timedelta(seconds=1)  # the old 1-day time
    cell.sender.sent.clear()
    await cell.tick()
    assert not any("Nhắc lịch" in t for _c, t in cell.sender.sent)


async def test_blocked_member_is_marked_once_and_the_secretary_told(cell: Cell) -> None:
    cell.sender.blocked.add("3")
    cell.clock.now = WINDOW_OPENS + timedelta(minutes=1)
    await cell.tick()
    await cell.tick()  # the notice to the secretary goes out
    told = [t for t in cell.sender.to("1") if "không còn nhắn được cho đồng chí User 3" in t]
    assert len(told) == 1
    cell.clock.now = MEETING - timedelta(days=3) + timedelta(seconds=1)
    await cell.tick()
    await cell.tick()
    assert len([t for t in cell.sender.to("1") if "không còn nhắn được" in t]) == 1
    async with cell.runtime.db.session() as session:
        reachable = await session.scalar(
            select(Member.reachable).where(Member.full_name == "User 3")
        )
    assert reachable is False


async def test_flood_control_is_retried_later(cell: Cell) -> None:
    cell.sender.flaky["2"] = 1
    cell.clock.now = WINDOW_OPENS + timedelta(minutes=1)
    await cell.tick()
    assert cell.sender.to("2") == []
    cell.clock.now += timedelta(seconds=2)
    await cell.tick()
    assert cell.sender.to("2") == []  # retry_after 3 s not yet over
    cell.clock.now += timedelta(seconds=4)
    await cell.tick()
    assert len(cell.sender.to("2")) == 1


async def test_a_send_cut_short_by_a_crash_is_never_repeated(cell: Cell) -> None:
    cell.clock.now = WINDOW_OPENS + timedelta(minutes=1)
    async with cell.runtime.db.session() as session:
        await plan_all(session, cell.clock())
        await session.execute(
            update(Notification).values(
                status=NotificationStatus.SENDING,
                claimed_until=cell.clock.now + timedelta(minutes=1),
            )
        )
    cell.clock.now += timedelta(minutes=5)  # the claiming process never came back
    await cell.dispatcher.run_once()
    assert cell.sender.sent == []
    assert (await statuses(cell.runtime.db, Kind.WINDOW_OPEN)) == {"unknown": 3}


async def test_manual_nudge_at_most_hourly_and_not_to_those_done(cell: Cell) -> None:
    cell.clock.now = WINDOW_OPENS + timedelta(hours=1)
    await cell.tick()
    cell.sender.sent.clear()
    assert "Đã nhắc 3 đảng viên" in await cell.say("1", "/remind")
    await cell.tick()
    assert sorted(c for c, t in cell.sender.sent if "⏰" in t) == ["1", "2", "3"]
    cell.clock.now += timedelta(minutes=30)
    again = await cell.say("1", "/remind")
    assert "Đã nhắc 0 đảng viên" in again and "3 đồng chí vừa được nhắc" in again
    cell.clock.now += timedelta(minutes=31)
    assert "Đã nhắc 3 đảng viên" in await cell.say("1", "/remind")
    assert "Chỉ bí thư" in await cell.say("2", "/remind")


async def test_muted_members_get_meeting_notices_but_no_nudges(cell: Cell) -> None:
    assert "Đang bật nhắc nhở" in await cell.say("2", "/settings")
    assert "Đã tắt" in await cell.say("2", data="mute:1")
    cell.clock.now = WINDOW_OPENS + timedelta(hours=1)
    await cell.tick()
    await cell.say("1", "/remind")
    cell.clock.now = MEETING - timedelta(days=3) + timedelta(seconds=1)
    await cell.tick()
    texts = cell.sender.to("2")
    assert not any("⏰" in t for t in texts)
    reminder = next(t for t in texts if "Nhắc lịch" in t)
    assert "chưa hoàn thành" not in reminder


async def test_rsvp_with_reason_and_the_secretary_list(cell: Cell) -> None:
    cell.clock.now = WINDOW_OPENS + timedelta(hours=1)
    await cell.tick()
    async with cell.runtime.db.session() as session:
        period_id = await session.scalar(select(Notification.period_id).limit(1))
    assert period_id is not None
    assert "sẽ dự" in await cell.say("2", data=f"rsvp:{period_id}:y")
    assert "lý do vắng" in await cell.say("3", data=f"rsvp:{period_id}:n")
    assert "Lý do: Đi công tác Hà Nội" in await cell.say("3", "Đi công tác Hà Nội")
    listing = await cell.say("1", "/rsvps")
    assert "Sẽ dự: 1/4" in listing
    assert "❌ User 3 — Đi công tác Hà Nội" in listing and "⬜ User 4 — chưa trả lời" in listing
    forged = await cell.say("2", data=f"rsvp:{period_id + 999}:y")
    assert "không còn hiệu lực" in forged
    cell.clock.now = MEETING + timedelta(minutes=1)
    assert "đã bắt đầu" in await cell.say("2", data=f"rsvp:{period_id}:n")


async def test_last_nudge_tells_the_secretary_who_is_missing(cell: Cell) -> None:
    cell.clock.now = MEETING - timedelta(hours=2) + timedelta(seconds=1)
    await cell.tick()
    report = next(t for t in cell.sender.to("1") if "chưa gửi bản tự đánh giá" in t)
    assert "User 2" in report and "User 4" not in report


async def test_skipped_month_sends_nothing(cell: Cell) -> None:
    cell.clock.now = WINDOW_OPENS + timedelta(minutes=1)
    await cell.tick()
    assert "không sinh hoạt" in await cell.say("1", "/meeting skip")
    cell.sender.sent.clear()
    cell.clock.now = MEETING - timedelta(days=1) + timedelta(seconds=1)
    await cell.tick()
    assert not any("Nhắc lịch" in t for _c, t in cell.sender.sent)


async def period_id(cell: Cell) -> int:
    async with cell.runtime.db.session() as session:
        found = await session.scalar(select(Notification.period_id).limit(1))
    assert found is not None
    return int(found)


async def member_id(cell: Cell, name: str) -> int:
    async with cell.runtime.db.session() as session:
        found = await session.scalar(select(Member.id).where(Member.full_name == name))
    assert found is not None
    return int(found)


async def test_attendance_sheet_prefilled_from_rsvps(cell: Cell) -> None:
    cell.clock.now = WINDOW_OPENS + timedelta(hours=1)
    await cell.tick()
    pid = await period_id(cell)
    await cell.say("3", data=f"rsvp:{pid}:n")
    await cell.say("3", "Ốm")
    sheet = await cell.say("1", "/attendance")
    assert "Có mặt: 2/3 (67%); vắng có lý do: 1; vắng không lý do: 0." in sheet
    user2 = await member_id(cell, "User 2")
    cycled = await cell.say("1", data=f"att:{pid}:{user2}")
    assert "Có mặt: 1/3 (33%); vắng có lý do: 2" in cycled
    cycled = await cell.say("1", data=f"att:{pid}:{user2}")
    assert "vắng có lý do: 1; vắng không lý do: 1." in cycled
    assert "Chỉ bí thư" in await cell.say("2", data=f"att:{pid}:{user2}")
    assert "không còn hiệu lực" in await cell.say("1", data=f"att:{pid}:999999")


async def test_excused_member_gets_no_nudges_and_is_not_missing(cell: Cell) -> None:
    cell.clock.now = WINDOW_OPENS + timedelta(hours=1)
    await cell.tick()
    pid, user3 = await period_id(cell), await member_id(cell, "User 3")
    assert "Bấm tên đảng viên" in await cell.say("1", "/excuse")
    await cell.say("1", data=f"exc:{pid}:{user3}")
    progress = await cell.say("1", "/progress")
    assert "➖ User 3 — được miễn tháng này" in progress and "Đã gửi: 0/2" in progress
    cell.sender.sent.clear()
    await cell.say("1", "/remind")
    await cell.tick()
    assert cell.sender.to("3") == []


async def test_member_asks_to_be_excused_and_the_secretary_approves(cell: Cell) -> None:
    cell.clock.now = WINDOW_OPENS + timedelta(hours=1)
    await cell.tick()
    assert "ghi lý do" in await cell.say("2", "/excuse")
    assert "Đã gửi đề nghị" in await cell.say("2", "/excuse Đi viện cả tháng")
    cell.sender.sent.clear()
    await cell.tick()
    request = next(t for t in cell.sender.to("1") if "xin miễn" in t)
    assert "Lý do: Đi viện cả tháng" in request
    async with cell.runtime.db.session() as session:
        excusal_id = await session.scalar(select(Excusal.id))
    assert "Chỉ bí thư" in await cell.say("2", data=f"exa:{excusal_id}:y")
    assert "được miễn tháng này" in await cell.say("1", data=f"exa:{excusal_id}:y")
    assert "➖ User 2 — được miễn tháng này" in await cell.say("1", "/progress")


async def test_after_the_deadline_the_secretary_gets_the_result(cell: Cell) -> None:
    cell.clock.now = WINDOW_OPENS + timedelta(minutes=1)
    await cell.tick()
    cell.clock.now = MEETING + timedelta(seconds=1)  # the deadline is the meeting's start
    await cell.tick()
    result = next(t for t in cell.sender.to("1") if "Đợt tự đánh giá đã kết thúc" in t)
    assert "Tổng điểm" in result and ("✓" in result or "✗" in result)
    assert not any("kết thúc" in t for t in cell.sender.to("2"))  # members get no summary


async def test_thematic_meeting_is_marked(cell: Cell) -> None:
    cell.clock.now = WINDOW_OPENS + timedelta(minutes=1)
    await cell.tick()
    done = await cell.say(
        "1", "/meeting 2026-12-04 08:00 | Hội trường | Chuyên đề Bác Hồ | chuyên đề"
    )
    assert "Sinh hoạt chuyên đề chi bộ tháng 12/2026" in done
    assert "Địa điểm: Hội trường" in done and "Nội dung, tài liệu: Chuyên đề Bác Hồ" in done


async def test_an_unanswered_send_is_never_repeated(cell: Cell) -> None:
    class SilentSender(FakeSender):
        async def send(self, chat_id: str, reply: Reply, locale: str | None = None) -> SendResult:
            if chat_id == "2":
                return SendResult(Delivery.UNKNOWN, error="timed out")
            return await super().send(chat_id, reply)

    cell.dispatcher.senders["telegram"] = SilentSender()
    cell.clock.now = WINDOW_OPENS + timedelta(minutes=1)
    await cell.tick()
    cell.clock.now += timedelta(hours=1)
    await cell.tick()
    async with cell.runtime.db.session() as session:
        rows = await session.execute(
            select(Member.full_name, Notification.status)
            .join(Member, Member.id == Notification.member_id)
            .where(Notification.kind == Kind.WINDOW_OPEN)
        )
        by_name = dict(rows.all())
    assert by_name["User 2"] == "unknown" and by_name["User 3"] == "sent"


async def test_planning_costs_the_same_queries_for_more_cells(cell: Cell) -> None:
    from sqlalchemy import event

    async def add_cells(count: int, start: int) -> None:
        created = []
        async with cell.runtime.db.session() as session:
            ward = await orgs.find_by_name(session, "Đảng bộ phường Đông Mai", OrgKind.COMMITTEE)
            for n in range(start, start + count):
                org = await create_cell(session, f"Chi bộ {n}", ward, timezone=HCM, locale="vi")
                await set_rule(session, org, "ngày 5 19:30", cell.clock())
                created.append(org)
        for n, org in enumerate(created, start):
            await join(cell.runtime, org, f"x{n}")

    seen_last: list[str] = []

    async def statements_of_a_quiet_pass() -> int:
        seen: list[str] = []

        def count(*args: object) -> None:
            seen.append(str(args[2]))

        engine = cell.runtime.db.engine.sync_engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            async with cell.runtime.db.session() as session:
                await plan_all(session, cell.clock())
        finally:
            event.remove(engine, "before_cursor_execute", count)
        seen_last[:] = seen
        return len(seen)

    cell.clock.now = WINDOW_OPENS + timedelta(minutes=1)
    await add_cells(2, 0)
    await cell.tick()
    few = await statements_of_a_quiet_pass()
    await add_cells(6, 10)
    await cell.tick()
    many = await statements_of_a_quiet_pass()
    assert many == few, seen_last  # nothing new to plan: the same queries for 3 or 9 cells


async def test_one_pending_excusal_request_per_member_and_month(cell: Cell) -> None:
    cell.clock.now = WINDOW_OPENS + timedelta(hours=1)
    await cell.tick()
    cell.sender.sent.clear()
    assert "Đã gửi đề nghị" in await cell.say("2", "/excuse Đi viện")
    for n in range(14):
        cell.clock.now += timedelta(seconds=1)
        reply = await cell.say("2", f"/excuse Đi viện lần {n}")
        assert "đang chờ bí thư" in reply and "cập nhật" in reply
    await cell.tick()
    requests = [t for t in cell.sender.to("1") if "xin miễn" in t]
    assert len(requests) == 1 and "Lý do: Đi viện lần 13" in requests[0]
    async with cell.runtime.db.session() as session:
        excusal_id = await session.scalar(select(Excusal.id))
    await cell.say("1", data=f"exa:{excusal_id}:y")
    assert "đã được miễn" in await cell.say("2", "/excuse Lại xin")
    async with cell.runtime.db.session() as session:
        excusal = await session.get(Excusal, excusal_id)
        assert excusal is not None and excusal.status == "approved"
        assert excusal.reason == "Đi viện lần 13"
    await cell.tick()
    assert not [t for t in cell.sender.to("1") if "xin miễn" in t][1:]


async def test_control_characters_are_stripped_on_every_database(cell: Cell) -> None:
    from storage.models import CellEvaluation

    cell.clock.now = WINDOW_OPENS + timedelta(hours=1)
    await cell.tick()
    async with cell.runtime.db.session() as session:
        org = await session.scalar(select(Organization).where(Organization.kind == OrgKind.CELL))
        assert org is not None
        code, _ = await membership.create_invite(
            session, org, Role.MEMBER, now=cell.clock(), valid_for=timedelta(days=1)
        )
    joined = ChatEvent("telegram", "9", "9", "Trần\x00 Thị\x1b Bình", "vi", f"/start {code}")
    assert "Chào mừng" in "\n".join(
        r.text for r in (await handlers.handle(cell.runtime, joined)).replies
    )
    assert "Đã gửi đề nghị" in await cell.say("9", "/excuse Đi\x00 viện\r\ncả tháng")
    assert "Đã lưu" in await cell.say("1", "/notes Họp\x00 đủ\tngười")
    async with cell.runtime.db.session() as session:
        member = await session.scalar(select(Member).where(Member.full_name.like("Trần%")))
        assert member is not None and member.full_name == "Trần Thị Bình"
        excusal = await session.scalar(select(Excusal).where(Excusal.member_id == member.id))
        assert excusal is not None and excusal.reason == "Đi viện cả tháng"
        notes = await session.scalar(select(CellEvaluation.notes))
        assert notes == "Họp đủ người"


async def press(cell: Cell, user: str, data: str) -> Reply | None:
    """A button press; the reply that replaces the pressed message (None: only a popup)."""
    event = ChatEvent("telegram", user, user, f"User {user}", "vi", None, data)
    outcome = await handlers.handle(cell.runtime, event)
    return outcome.replies[0] if outcome.replies else None


async def command(cell: Cell, user: str, text: str) -> Reply:
    event = ChatEvent("telegram", user, user, f"User {user}", "vi", text)
    return (await handlers.handle(cell.runtime, event)).replies[0]


def labels(reply: Reply) -> list[str]:
    return [b.label for row in reply.buttons for b in row]


def data_of(reply: Reply, label: str) -> str:
    return next(b.data for row in reply.buttons for b in row if label in b.label)


async def every_page(cell: Cell, first: Reply) -> list[Reply]:
    """The pages of a member keyboard, turned with "Sau ›" until the last."""
    pages = [first]
    while any("Sau ›" in label for label in labels(pages[-1])):
        turned = await press(cell, "1", data_of(pages[-1], "Sau ›"))
        assert turned is not None and turned.edit
        pages.append(turned)
    return pages


@pytest.mark.parametrize(("screen", "prefix"), [("/attendance", "att"), ("/excuse", "exc")])
async def test_member_keyboards_page_for_a_large_cell(cell: Cell, screen: str, prefix: str) -> None:
    cell.clock.now = WINDOW_OPENS + timedelta(hours=1)
    async with cell.runtime.db.session() as session:
        org = await orgs.find_by_name(session, "Chi bộ khu Biểu Nghi", OrgKind.CELL)
    assert org is not None
    for n in range(5, 90):
        await join(cell.runtime, org, str(n))
    await cell.tick()
    pid = await period_id(cell)
    pages = await every_page(cell, await command(cell, "1", screen))
    assert len(pages) == 3 and "Trang 1/3" in pages[0].text and "Trang 3/3" in pages[2].text
    assert all(len(labels(p)) <= 42 for p in pages)
    names = [label.split("User ")[1] for p in pages for label in labels(p) if "User " in label]
    expected = sorted(str(n) for n in [1, 2, 3, *range(5, 90)])  # not the exempt User 4
    assert sorted(names) == expected and len(names) == len(set(names))
    back = await press(cell, "1", data_of(pages[1], "‹ Trước"))
    assert back is not None and labels(back) == labels(pages[0])
    # a tap re-renders the page that shows the member
    user77 = await member_id(cell, "User 77")
    tapped = await press(cell, "1", f"{prefix}:{pid}:{user77}")
    assert tapped is not None and any(label.endswith("User 77") for label in labels(tapped))
    # stale page numbers clamp; forged ones are refused
    clamped = await press(cell, "1", f"{prefix}p:{pid}:999")
    assert clamped is not None and "Trang 3/3" in clamped.text
    for forged in (f"{prefix}p:{pid}:x", f"{prefix}p:{pid + 9}:1", f"{prefix}p:{pid}:²"):
        assert "không còn hiệu lực" in await cell.say("1", data=forged)
    assert "Chỉ bí thư" in await cell.say("2", data=f"{prefix}p:{pid}:1")
