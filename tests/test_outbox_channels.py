"""The outbox across channels: unclear refusals (Zalo's 403) counted per account, and each
notification sent on the member's latest account, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.zalo import ZaloSender
from bot.channels.zalo_api import ZaloBotAPI, ZaloError
from bot.core.chat import Reply
from bot.core.config import load_settings
from bot.services.meetings import set_rule
from bot.services.notify import (
    REFUSALS_BEFORE_UNREACHABLE,
    Delivery,
    Dispatcher,
    DispatchStats,
    Notice,
    Sender,
    SendResult,
)
from bot.services.planner import Kind, plan_all
from bot.services.runtime import Runtime
from bot.services.setup import create_cell
from storage import notifications as outbox
from storage import orgs
from storage.db import Database
from storage.models import ChatIdentity, Member, Notification, OrgKind, Period, Role
from tests.conftest import FakeClock
from tests.test_scheduler import HCM, WINDOW_OPENS, join

NOW = WINDOW_OPENS + timedelta(minutes=1)
LATER = timedelta(minutes=2)  # past any backoff of the first attempts (5 s, 10 s, 20 s)


@dataclass
class ScriptedSender:
    """Answers each chat with the deliveries scripted for it, in order, then SENT."""

    channel: str = "telegram"
    script: dict[str, list[Delivery]] = field(default_factory=dict)
    sent: list[tuple[str, str]] = field(default_factory=list)
    tries: list[str] = field(default_factory=list)

    async def send(self, chat_id: str, reply: Reply, locale: str | None = None) -> SendResult:
        await asyncio.sleep(0)
        self.tries.append(chat_id)
        planned = self.script.get(chat_id)
        delivery = planned.pop(0) if planned else Delivery.SENT
        if delivery is not Delivery.SENT:
            return SendResult(delivery, error="403: Internal error")
        self.sent.append((chat_id, reply.text))
        return SendResult(Delivery.SENT)

    def to(self, chat_id: str) -> list[str]:
        return [text for chat, text in self.sent if chat == chat_id]


async def plain(session: AsyncSession, notice: Notice) -> Reply:
    """A notification as "<kind> → <member>": enough to tell them apart."""
    return Reply(f"{notice.notification.kind} → {notice.member.full_name}")


@dataclass
class Outbox:
    db: Database
    clock: FakeClock
    sender: ScriptedSender
    dispatcher: Dispatcher
    period_id: int = 0

    async def tick(self, later: timedelta = timedelta(0)) -> DispatchStats:
        self.clock.now += later
        async with self.db.session() as session:
            await plan_all(session, self.clock())
        stats = await self.dispatcher.run_once()
        if not self.period_id:
            async with self.db.session() as session:
                self.period_id = await session.scalar(select(Period.id)) or 0
        return stats

    async def plan(self, user: str, kind: str, key: str) -> None:
        """One more notification for the member of `user`, due now."""
        now = self.clock()
        async with self.db.session() as session:
            member = await member_of(session, user)
            row = outbox.row(member.id, self.period_id, kind, key, now, now + timedelta(days=1))
            await outbox.plan(session, [row])

    async def account(self, external_id: str) -> ChatIdentity:
        async with self.db.session() as session:
            found = await session.scalar(
                select(ChatIdentity).where(ChatIdentity.external_id == external_id)
            )
        assert found is not None
        return found

    async def reachable(self, user: str) -> bool:
        async with self.db.session() as session:
            return (await member_of(session, user)).reachable

    async def rows(self, user: str, kind: str) -> list[dict[str, Any]]:
        async with self.db.session() as session:
            member = await member_of(session, user)
            found = await session.scalars(
                select(Notification)
                .where(Notification.member_id == member.id, Notification.kind == kind)
                .order_by(Notification.id)
            )
            return [
                {
                    "status": n.status,
                    "channel": n.channel,
                    "attempts": n.attempts,
                    "due_at": n.due_at.replace(tzinfo=None),
                    "offset_key": n.offset_key,
                }
                for n in found
            ]


async def member_of(session: AsyncSession, user: str) -> Member:
    member = await session.scalar(select(Member).where(Member.full_name == f"User {user}"))
    assert member is not None
    return member


async def setup_cell(db: Database, clock: FakeClock) -> Runtime:
    """A cell with a secretary ("1") and two members ("2", "3"), all on Telegram."""
    runtime = Runtime(load_settings(database_url=db.url, _env_file=None), db, clock=clock)
    async with db.session() as session:
        committee = await orgs.create(session, "Đảng bộ phường Đông Mai", OrgKind.COMMITTEE)
        org = await create_cell(
            session, "Chi bộ khu Biểu Nghi", committee, timezone=HCM, locale="vi"
        )
        await set_rule(session, org, "ngày 5 19:30", clock())
    await join(runtime, org, "1", Role.SECRETARY)
    for user in ("2", "3"):
        await join(runtime, org, user)
    return runtime


@pytest.fixture
async def box(db: Database) -> AsyncIterator[Outbox]:
    clock = FakeClock(NOW)
    await setup_cell(db, clock)
    sender = ScriptedSender()
    dispatcher = Dispatcher(db, {"telegram": sender}, render=plain, clock=clock)
    yield Outbox(db, clock, sender, dispatcher)


def naive(moment: datetime) -> datetime:
    return moment.replace(tzinfo=None)


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize("refusals", [1, 2])
async def test_a_few_refusals_are_retried_and_the_member_stays_reachable(
    box: Outbox, refusals: int
) -> None:
    assert refusals < REFUSALS_BEFORE_UNREACHABLE == 3
    box.sender.script["3"] = [Delivery.REFUSED] * refusals
    stats = await box.tick()
    for count in range(1, refusals + 1):
        assert stats.retried == 1 and stats.unreachable == 0
        assert (await box.account("3")).failures == count
        assert await box.reachable("3")
        [row] = await box.rows("3", Kind.WINDOW_OPEN)
        assert (row["status"], row["attempts"]) == ("pending", count)
        assert row["due_at"] > naive(box.clock())  # a retry, later
        assert box.sender.to("3") == []
        stats = await box.tick(LATER)
    assert box.sender.to("3") == ["window_open → User 3"]
    assert box.sender.tries.count("3") == refusals + 1
    assert (await box.account("3")).failures == 0  # the success reset the count
    assert await box.reachable("3")
    [row] = await box.rows("3", Kind.WINDOW_OPEN)
    assert (row["status"], row["channel"]) == ("sent", "telegram")
    assert await box.rows("1", Kind.MEMBER_UNREACHABLE) == []


async def test_a_success_resets_the_refusals_in_a_row(box: Outbox) -> None:
    box.sender.script["3"] = [Delivery.REFUSED, Delivery.REFUSED, Delivery.SENT]
    await box.tick()
    await box.tick(LATER)
    await box.tick(LATER)
    assert box.sender.to("3") == ["window_open → User 3"]
    assert (await box.account("3")).failures == 0
    box.sender.script["3"] = [Delivery.REFUSED, Delivery.REFUSED]  # 4 refusals, not in a row
    await box.plan("3", Kind.MEETING_NOTICE, "moved-1")
    await box.tick()
    await box.tick(LATER)
    assert (await box.account("3")).failures == 2
    assert await box.reachable("3")
    [row] = await box.rows("3", Kind.MEETING_NOTICE)
    assert (row["status"], row["attempts"]) == ("pending", 2)
    await box.tick(LATER)
    assert box.sender.to("3")[-1] == "meeting_notice → User 3"
    assert (await box.account("3")).failures == 0


async def test_three_refusals_in_a_row_mark_the_member_unreachable_once(box: Outbox) -> None:
    box.sender.script["3"] = [Delivery.REFUSED] * 3
    await box.tick()
    await box.tick(LATER)
    assert await box.reachable("3")
    assert await box.rows("1", Kind.MEMBER_UNREACHABLE) == []
    stats = await box.tick(LATER)
    assert stats.unreachable == 1
    assert not await box.reachable("3")
    [row] = await box.rows("3", Kind.WINDOW_OPEN)
    assert (row["status"], row["attempts"], row["channel"]) == ("unreachable", 3, "telegram")
    async with box.db.session() as session:
        member, secretary = await member_of(session, "3"), await member_of(session, "1")
        planned = await session.execute(
            select(Notification.member_id, Notification.offset_key).where(
                Notification.kind == Kind.MEMBER_UNREACHABLE
            )
        )
        assert planned.all() == [(secretary.id, f"m{member.id}")]  # one, to the secretary

    await box.plan("3", Kind.MEETING_NOTICE, "moved-1")  # nothing more is written to them
    await box.tick(LATER)
    await box.tick(LATER)
    assert box.sender.to("1").count("member_unreachable → User 1") == 1
    assert box.sender.to("3") == [] and box.sender.tries.count("3") == 3
    [notice] = await box.rows("3", Kind.MEETING_NOTICE)
    assert notice["status"] == "skipped"
    assert len(await box.rows("1", Kind.MEMBER_UNREACHABLE)) == 1


async def test_refusals_of_several_rows_in_one_batch_tell_the_secretary_once(
    box: Outbox,
) -> None:
    box.sender.script["3"] = [Delivery.REFUSED] * 4
    await box.tick()  # the window notice: refusal 1
    await box.plan("3", Kind.MEETING_NOTICE, "a")
    await box.plan("3", Kind.MEETING_NOTICE, "b")
    stats = await box.tick(LATER)  # "a", "b", window notice: refusals 2, 3, 4 in one batch
    assert (stats.retried, stats.unreachable) == (1, 2)
    assert sorted(await statuses_of(box, "3")) == ["pending", "unreachable", "unreachable"]
    assert not await box.reachable("3")
    assert len(await box.rows("1", Kind.MEMBER_UNREACHABLE)) == 1
    await box.tick(LATER)
    assert sorted(await statuses_of(box, "3")) == ["skipped", "unreachable", "unreachable"]
    assert box.sender.to("1").count("member_unreachable → User 1") == 1
    assert len(await box.rows("1", Kind.MEMBER_UNREACHABLE)) == 1


async def statuses_of(box: Outbox, user: str) -> list[str]:
    rows = await box.rows(user, Kind.WINDOW_OPEN) + await box.rows(user, Kind.MEETING_NOTICE)
    return [row["status"] for row in rows]


async def test_other_failures_neither_count_nor_reset_refusals(box: Outbox) -> None:
    box.sender.script["3"] = [Delivery.REFUSED, Delivery.RETRY, Delivery.UNKNOWN]
    await box.tick()
    await box.tick(LATER)
    assert (await box.account("3")).failures == 1
    await box.tick(LATER)
    assert (await box.account("3")).failures == 1
    [row] = await box.rows("3", Kind.WINDOW_OPEN)
    assert row["status"] == "unknown"
    assert await box.reachable("3")


async def test_a_success_right_after_a_refusal_in_one_run_resets_the_count(box: Outbox) -> None:
    await box.tick()  # the month is open: period and first rows exist
    box.sender.script["3"] = [Delivery.REFUSED, Delivery.SENT]
    await box.plan("3", Kind.MEETING_NOTICE, "a")
    box.clock.now += timedelta(seconds=1)
    await box.plan("3", Kind.MEETING_NOTICE, "b")
    await box.tick()  # "a" refused, then "b" delivered, in one batch
    rows = await box.rows("3", Kind.MEETING_NOTICE)
    assert [(r["offset_key"], r["status"]) for r in rows] == [("a", "pending"), ("b", "sent")]
    assert (await box.account("3")).failures == 0


# --------------------------------------------------------------------------- channels


async def add_zalo_account(db: Database, user: str, external_id: str) -> None:
    async with db.session() as session:
        member = await member_of(session, user)
        session.add(ChatIdentity(member_id=member.id, channel="zalo", external_id=external_id))


async def set_seen(db: Database, external_id: str, moment: datetime | None) -> None:
    async with db.session() as session:
        await session.execute(
            update(ChatIdentity)
            .where(ChatIdentity.external_id == external_id)
            .values(last_seen_at=moment)
        )


HOUR = timedelta(hours=1)


@pytest.mark.parametrize(
    ("telegram_seen", "zalo_seen", "channel"),
    [
        (NOW - 2 * HOUR, NOW - HOUR, "zalo"),
        (NOW - HOUR, NOW - 2 * HOUR, "telegram"),
        (None, NOW - 30 * 24 * HOUR, "zalo"),  # never seen counts as oldest
        (NOW - 30 * 24 * HOUR, None, "telegram"),
    ],
)
async def test_a_member_on_two_channels_gets_it_on_the_latest(
    box: Outbox, telegram_seen: datetime | None, zalo_seen: datetime | None, channel: str
) -> None:
    zalo = ScriptedSender("zalo")
    box.dispatcher.senders["zalo"] = zalo
    await add_zalo_account(box.db, "3", "z3")
    await set_seen(box.db, "3", telegram_seen)
    await set_seen(box.db, "z3", zalo_seen)
    await box.tick()
    on_zalo = zalo.to("z3")
    on_telegram = box.sender.to("3")
    assert (on_zalo if channel == "zalo" else on_telegram) == ["window_open → User 3"]
    assert (on_telegram if channel == "zalo" else on_zalo) == []
    [row] = await box.rows("3", Kind.WINDOW_OPEN)
    assert (row["status"], row["channel"]) == ("sent", channel)
    [other] = await box.rows("2", Kind.WINDOW_OPEN)
    assert (other["status"], other["channel"]) == ("sent", "telegram")
    assert zalo.tries == (["z3"] if channel == "zalo" else [])


async def test_a_member_only_on_zalo_is_skipped_by_a_telegram_only_dispatcher(
    box: Outbox,
) -> None:
    async with box.db.session() as session:
        await session.execute(
            update(ChatIdentity).where(ChatIdentity.external_id == "3").values(channel="zalo")
        )
    await box.tick()
    assert "3" not in box.sender.tries
    [row] = await box.rows("3", Kind.WINDOW_OPEN)
    assert (row["status"], row["channel"]) == ("skipped", None)
    assert sorted(box.sender.tries) == ["1", "2"]


# --------------------------------------------------------------------------- ZaloSender


class FakeZalo:
    """Stands in for ZaloBotAPI: keeps each message; raises the error given for a call."""

    def __init__(self, errors: dict[int, Exception]) -> None:
        self.errors = errors
        self.calls = 0
        self.sent: list[tuple[str, str]] = []

    async def send_message(self, chat_id: str, text: str) -> dict[str, Any]:
        number, self.calls = self.calls, self.calls + 1
        if number in self.errors:
            raise self.errors[number]
        self.sent.append((chat_id, text))
        return {"message_id": f"m{number}"}


LONG = "\n".join(
    f"Dòng {n:03d}: danh sách đảng viên chưa hoàn thành tự đánh giá" for n in range(80)
)


async def long_notice(session: AsyncSession, notice: Notice) -> Reply:
    return Reply(LONG)


async def zalo_outbox(db: Database, api: FakeZalo) -> Outbox:
    """The cell with member 3 only on Zalo, and a dispatcher serving both channels."""
    clock = FakeClock(NOW)
    runtime = await setup_cell(db, clock)
    async with db.session() as session:
        await session.execute(
            update(ChatIdentity).where(ChatIdentity.external_id == "3").values(channel="zalo")
        )
    zalo = ZaloSender(runtime, cast(ZaloBotAPI, api))
    telegram = ScriptedSender()
    senders: dict[str, Sender] = {"telegram": telegram, "zalo": zalo}
    dispatcher = Dispatcher(db, senders, render=long_notice, clock=clock)
    return Outbox(db, clock, telegram, dispatcher)


async def test_a_zalo_notice_cut_after_its_first_part_is_never_resent(db: Database) -> None:
    api = FakeZalo({1: ZaloError(429, "Quota exceeded")})
    box = await zalo_outbox(db, api)
    stats = await box.tick()
    assert stats.failed == 1
    assert len(api.sent) == 1 and api.sent[0][1].startswith("Dòng 000")
    [row] = await box.rows("3", Kind.WINDOW_OPEN)
    assert (row["status"], row["channel"]) == ("unknown", "zalo")
    await box.tick(LATER)
    await box.tick(timedelta(hours=1))
    assert api.calls == 2 and len(api.sent) == 1
    assert len(box.sender.to("2")) == 1  # Telegram members got theirs once


async def test_zalo_403_three_times_makes_the_member_unreachable(db: Database) -> None:
    api = FakeZalo({n: ZaloError(403, "Internal error") for n in range(3)})
    box = await zalo_outbox(db, api)
    await box.tick()
    await box.tick(LATER)
    assert await box.reachable("3")
    assert (await box.account("3")).failures == 2
    await box.tick(LATER)
    assert not await box.reachable("3")
    [row] = await box.rows("3", Kind.WINDOW_OPEN)
    assert (row["status"], row["channel"]) == ("unreachable", "zalo")
    assert len(await box.rows("1", Kind.MEMBER_UNREACHABLE)) == 1
    assert api.calls == 3 and api.sent == []
