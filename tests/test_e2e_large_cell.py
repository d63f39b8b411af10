"""End to end: a 150-member cell with long names and long reasons, through every secretary
screen and the scheduled notices of the real process. Every message must be accepted by
the (fake) Bot API and every member must appear across the parts and pages."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.deployment import Deployment, deployed
from tests.fakebotapi import BotMessage
from tests.harness import TelegramUser

FAST = {"SCHEDULER_INTERVAL_SECONDS": "1", "LOG_LEVEL": "INFO"}
HCM = ZoneInfo("Asia/Ho_Chi_Minh")
MEMBERS = 150
ABSENT = 40  # members who will not attend, each with a long reason
EXCUSED = 3  # members who ask to be excused; the secretary approves them
GENERIC_ERROR = "đã có lỗi xảy ra"
MEETING_NOTICE = "Lịch sinh hoạt chi bộ vừa được đặt"
TEXT_LIMIT, BUTTON_LIMIT = 4096, 100


def long_name(n: int) -> tuple[str, str]:
    """A 60+ character name whose number cannot be mistaken inside another name."""
    return f"Nguyễn Thị Phương Thảo Hoàng Minh Khai khu dân cư Biểu Nghi {n:03d}", "Trần Đông Mai"


def full(user: TelegramUser) -> str:
    return f"{user.first_name} {user.last_name}"


def reason(n: int) -> str:
    return f"Lý do {n:03d}: " + "đi công tác xa tại tỉnh bạn, đã báo cáo tổ trưởng trước " * 5


def since(d: Deployment, user: TelegramUser, start: int) -> list[BotMessage]:
    """Messages (and edits) the bot made in the user's chat after outbox position `start`."""
    return [e.message for e in d.api.outbox[start:] if e.chat_id == user.chat_id]


async def all_shown(
    d: Deployment,
    user: TelegramUser,
    start: int,
    needles: Sequence[str],
    timeout: float = 60,
    where: Callable[[BotMessage], bool] = lambda m: True,
) -> str:
    """Wait until every needle appears in the user's messages since `start`; their text."""

    def joined() -> str:
        return "\n".join(m.text or "" for m in since(d, user, start) if where(m))

    def done() -> bool:
        text = joined()
        return all(n in text for n in needles)

    await d.api.wait_until(done, timeout)
    text = joined()
    missing = [n for n in needles if n not in text]
    assert not missing, f"{len(missing)} missing, e.g. {missing[:3]}\n{user.transcript()[-3000:]}"
    return text


async def join_all(d: Deployment, secretary: TelegramUser) -> list[TelegramUser]:
    await secretary.send(f"/invite {MEMBERS} 7")
    invite = await secretary.expect_message(contains="Mã:")
    code = invite.text.split("Mã: ")[1].split()[0]  # type: ignore[union-attr]
    users = [TelegramUser(d.api, 2000 + n, *long_name(n)) for n in range(MEMBERS)]

    async def join(user: TelegramUser) -> None:
        await user.send(f"/start {code}")
        await user.expect_message(contains="Chào mừng", timeout=60)

    for chunk in range(0, MEMBERS, 25):
        await asyncio.gather(*(join(u) for u in users[chunk : chunk + 25]))
    return users


async def pages(d: Deployment, secretary: TelegramUser, command: str) -> list[list[str]]:
    """The name buttons of every page of a member keyboard, turned with "Sau ›"."""
    await secretary.send(command)
    shown = await secretary.expect_message(contains="Trang 1/")
    keyboards = [shown.button_texts]
    while any(label.startswith("Sau") for label in keyboards[-1]):
        await secretary.press(shown, text="Sau ›")
        shown = await secretary.expect_edit(message_id=shown.message_id)
        keyboards.append(shown.button_texts)
    return keyboards


def outbox_statuses(d: Deployment) -> dict[str, int]:
    path = d.env["DATABASE_URL"].split(":///", 1)[1]
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT status, count(*) FROM notifications GROUP BY status")
        return dict(rows.fetchall())


@pytest.mark.timeout(900)
async def test_a_large_cell_through_every_screen_and_notice(tmp_path: Path) -> None:
    async with deployed(tmp_path, **FAST) as d:
        an = await d.secretary()
        users = await join_all(d, an)
        names = [full(u) for u in users]
        # opened now (everyone joined before: nobody is excused as joining late), the meeting
        # and deadline a few minutes ahead; the 1-minute reminder carries the last nudge and
        # the "not submitted yet" notice goes to the secretary
        local = datetime.now(UTC).astimezone(HCM) + timedelta(minutes=4)
        meeting = local.replace(second=0, microsecond=0)
        await an.send(f"/open {meeting:%Y-%m-%d %H:%M}")
        await an.expect_message(contains="Đã mở đợt tự đánh giá tháng")
        await d.cli(
            "cell", "schedule", "Chi bộ khu Biểu Nghi",
            "--rule", f"day {meeting.day} {meeting:%H:%M}", "--reminders", "1m",
        )  # fmt: skip
        opened = [await u.expect_message("Đã mở đợt tự đánh giá", timeout=90) for u in users]
        period = next(data for row in opened[0].buttons for _t, data in row if data)
        period_id = period.split(":")[1]
        # the month was planned before it had a meeting: setting it plans the reminders
        await an.send(f"/meeting {meeting:%Y-%m-%d %H:%M} | " + "Nhà văn hóa khu dân cư " * 4)
        await an.expect_message(contains="Sinh hoạt chi bộ tháng")
        for user in users:
            await user.expect_message(contains=MEETING_NOTICE, timeout=90)

        for n, user in enumerate(users[:ABSENT]):
            await user.press_data(f"rsvp:{period_id}:n")
            await user.expect_message(contains="ghi lý do vắng")
            await user.send(reason(n))
            await user.expect_message(contains="Đã ghi nhận: đồng chí vắng")
        for user in users[ABSENT : ABSENT + 10]:
            await user.press_data(f"rsvp:{period_id}:y")
            await user.expect_message(contains="sẽ dự")
        excused = users[-EXCUSED:]
        for n, user in enumerate(excused):
            await user.send("/excuse " + reason(100 + n))
            await user.expect_message(contains="Đã gửi đề nghị")
        for user in excused:
            request = await an.expect_message(contains=full(user), timeout=30)
            await an.press(request, text="✅")
            await an.expect_edit(contains="được miễn", message_id=request.message_id)

        start = len(d.api.outbox)
        await an.send("/progress")
        await all_shown(d, an, start, [*names, "Đã gửi: 0/"])

        start = len(d.api.outbox)
        await an.send("/rsvps")
        text = await all_shown(d, an, start, [*names, "Sẽ dự: 10/"])
        for n in range(ABSENT):
            assert reason(n).strip() in text  # every reason, in full

        for command in ("/attendance", "/excuse"):
            keyboards = await pages(d, an, command)
            labels = [label for keyboard in keyboards for label in keyboard]
            expected = names[:-EXCUSED]  # excused members are not expected at the meeting
            for name in expected:
                assert sum(label.endswith(name) for label in labels) == 1, (command, name)
            assert max(len(k) for k in keyboards) <= 42 and len(keyboards) >= 4

        start = len(d.api.outbox)
        await an.send("/summary")
        await an.expect_message(contains="Tự đánh giá tháng", timeout=60)
        await d.api.wait_until(lambda: any(m.photo for m in since(d, an, start)), 60)

        start = len(d.api.outbox)
        await an.send("/report")
        await an.expect_message(contains="Năm ", timeout=60)
        await d.api.wait_until(
            lambda: sum(m.document is not None for m in since(d, an, start)) == 2, 60
        )

        await an.send("/confirm")
        await an.expect_message(contains="Xác nhận kết quả tháng")

        await an.send("/remind")
        await an.expect_message(contains="Đã nhắc")  # the window opened just now: few nudges

        # the scheduled reminder to everyone, and the missing list to the secretary in parts
        wait = (meeting - timedelta(minutes=1) - datetime.now(UTC)).total_seconds()
        assert wait > 0, "the screens took longer than the time before the reminder"
        for user in users[:-EXCUSED]:
            await user.expect_message(contains="Nhắc lịch", timeout=wait + 60)
        header = await an.expect_message(contains="Sắp hết hạn", timeout=60)
        start = next(e.seq for e in d.api.outbox if e.message is header)
        await all_shown(d, an, start, names[:-EXCUSED], timeout=60)
        await asyncio.sleep(3)  # let the outbox record what it sent

        everything = [e.message for e in d.api.outbox]
        assert not any(GENERIC_ERROR in (m.text or "") for m in everything)
        assert all(len(m.text or "") <= TEXT_LIMIT for m in everything)
        assert all(len(m.button_texts) <= BUTTON_LIMIT for m in everything)
        refused = [c for c in d.api.calls if c.status is not None and 400 <= c.status < 429]
        assert not refused, [(c.method, c.status, c.error) for c in refused[:5]]
        statuses = outbox_statuses(d)
        assert not {"failed", "unknown", "sending"} & set(statuses), statuses
        assert "ERROR" not in d.bot.log_text()
