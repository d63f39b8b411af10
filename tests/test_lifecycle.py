"""A member's life in a cell: remove, move, status and role, on SQLite and PostgreSQL.

The heart of it: records of past months never change. A closed month's progress,
completion, score, member scores and the year report are read before and after a
removal, a move and a status change, and must be the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.i18n import Translator
from bot.services import evaluation, lifecycle, membership, reporting
from bot.services.lifecycle import Refusal, Refused
from bot.services.notify import Dispatcher
from bot.services.periods import Progress, cell_progress, open_period
from bot.services.planner import Kind
from bot.services.runtime import Runtime
from bot.services.setup import create_cell
from handlers import notices
from storage import assessments as assessment_store
from storage import evaluation as aggregates
from storage import members as member_store
from storage import orgs
from storage.db import Database
from storage.models import (
    Answer,
    Assessment,
    ChatIdentity,
    Member,
    MemberEvent,
    MemberStatus,
    Notification,
    NotificationStatus,
    Organization,
    OrgKind,
    Period,
    Role,
)
from tests.cellworld import MEMBER_A, MEMBER_B, OTHER_MEMBER_A, SECRETARY_A, build_world
from tests.test_scheduler import FakeSender

NOVEMBER = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
NOV_DEADLINE = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
DECEMBER = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)  # after November's deadline
NAMES = ("An", "Bình", "Chi", "Dũng", "Em")  # secretary, then four members


@dataclass
class Cells:
    a: Organization
    b: Organization
    people: dict[str, int]  # name → member id in cell A
    november: int  # cell A's closed month
    december: int  # cell A's open month


async def submit(session: AsyncSession, period: Period, member: Member | None, seed: int) -> None:
    """A submitted assessment: every member question answered (options vary by `seed`)."""
    assert member is not None
    assessment = Assessment(
        period_id=period.id,
        member_id=member.id,
        state="submitted",
        started_at=period.opens_at,
        updated_at=period.opens_at,
        submitted_at=period.opens_at,
    )
    session.add(assessment)
    await session.flush()
    for n, (question, _group) in enumerate(
        await assessment_store.member_questions(session, period.framework_id)
    ):
        if question.options:
            value = question.options[(seed + n) % len(question.options)].value
        elif question.kind == "score":
            value = str(question.max_value)
        else:
            value = "Ý kiến"
        session.add(
            Answer(
                assessment_id=assessment.id,
                question_id=question.id,
                value=value,
                answered_at=period.opens_at,
            )
        )


async def two_cells(db: Database) -> Cells:
    """Cells A and B under one committee; A has a closed November (An, Bình, Chi submitted;
    Dũng and Em did not) and an open December; every member has a Telegram account."""
    async with db.session() as session:
        ward = await orgs.create(session, "Đảng bộ phường Đông Mai", OrgKind.COMMITTEE)
        a = await create_cell(
            session, "Chi bộ khu 1", ward, timezone="Asia/Ho_Chi_Minh", locale="vi"
        )
        b = await create_cell(
            session, "Chi bộ khu 2", ward, timezone="Asia/Ho_Chi_Minh", locale="vi"
        )
        people: dict[str, int] = {}
        for n, name in enumerate(NAMES):
            member = Member(
                org_id=a.id,
                full_name=name,
                role=Role.SECRETARY if n == 0 else Role.MEMBER,
                status=MemberStatus.PROBATIONARY if name == "Chi" else MemberStatus.OFFICIAL,
                joined_at=NOVEMBER - timedelta(days=200),
            )
            session.add(member)
            await session.flush()
            await member_store.link_identity(session, member, "telegram", str(100 + n))
            people[name] = member.id
        b_secretary = Member(org_id=b.id, full_name="Bí thư B", role=Role.SECRETARY)
        session.add(b_secretary)
        november = (await open_period(session, a, None, NOVEMBER, NOV_DEADLINE)).period
        for seed, name in enumerate(("An", "Bình", "Chi")):
            await submit(session, november, await session.get(Member, people[name]), seed)
        december = (await open_period(session, a, None, DECEMBER)).period
        return Cells(a, b, people, november.id, december.id)


async def month_view(db: Database, cells: Cells, period_id: int) -> dict[str, object]:
    """Everything a past month shows: progress, completion, result, scores, year report."""
    async with db.session() as session:
        period = await session.get(Period, period_id)
        assert period is not None
        computed = await evaluation.compute(session, period)
        completion = await aggregates.completion_counts(session, [period.id])
        t = Translator("vi", "Asia/Ho_Chi_Minh")
        year = await reporting.year_report(session, cells.a, period.year, t)
        assert year is not None
        return {
            "progress": [(p.member.id, p.progress, p.answered) for p in computed.progress],
            "completion": completion[period.id],
            "total": computed.result.total,
            "level": computed.result.level,
            "scores": computed.member_scores,
            # the year report's line for this month, and each member's year (December is
            # open and changes, as it should: the removed are no longer expected there)
            "year": (year[1].months[period.month - 1], year[1].member_years),
        }


async def test_past_months_never_change(db: Database) -> None:
    cells = await two_cells(db)
    before = await month_view(db, cells, cells.november)
    people = cells.people
    progress = {m: p for m, p, _n in before["progress"]}  # type: ignore[attr-defined]
    assert progress[people["Dũng"]] is Progress.NOT_STARTED  # the month did count them
    assert before["completion"] == (5, 3)

    async with db.session() as session:
        secretary = await session.get(Member, people["An"])
        target = await session.get(Organization, cells.b.id)
        bình, dũng, chi, em = [
            await session.get(Member, people[n]) for n in ("Bình", "Dũng", "Chi", "Em")
        ]
        assert secretary and target and bình and dũng and chi and em
        moved = await lifecycle.move(session, bình, target, DECEMBER, by=secretary)
        await lifecycle.remove(session, dũng, "Chuyển đi nơi khác", DECEMBER, by=secretary)
        await lifecycle.set_status(session, em, MemberStatus.EXEMPT, DECEMBER, by=secretary)
        await lifecycle.set_status(session, chi, MemberStatus.OFFICIAL, DECEMBER, by=secretary)
        new_bình = moved.new.id

    after = await month_view(db, cells, cells.november)
    assert after == before

    # this month (deadline ahead): the removed and the moved are gone, Em is now exempt
    async with db.session() as session:
        december = await session.get(Period, cells.december)
        assert december is not None
        now = {p.member.id: p.progress for p in await cell_progress(session, december)}
        assert people["Dũng"] not in now and people["Bình"] not in now
        assert now[people["Em"]] is Progress.EXCUSED_EXEMPT
        # the moved member is a member of cell B now; their chat account went with them
        found = await member_store.by_identity(session, "telegram", "101")
        assert found is not None and found.id == new_bình and found.org_id == cells.b.id
        assert found.moved_from_id == people["Bình"] and found.role == Role.MEMBER
        assert await member_store.by_identity(session, "telegram", "103") is None  # Dũng
        history = await lifecycle.month_of_person(session, found, 2026, 11)
        assert [(m.id, p.id) for m, p in history] == [(people["Bình"], cells.november)]


async def test_every_change_is_audited_and_told_once(db: Database) -> None:
    cells = await two_cells(db)
    people = cells.people
    async with db.session() as session:
        secretary = await session.get(Member, people["An"])
        bình, dũng, chi = [await session.get(Member, people[n]) for n in ("Bình", "Dũng", "Chi")]
        b = await session.get(Organization, cells.b.id)
        assert secretary and bình and dũng and chi and b
        await lifecycle.move(session, bình, b, DECEMBER, by=secretary)
        await lifecycle.remove(session, dũng, "Vi phạm kỷ luật", DECEMBER, by=secretary)
        await lifecycle.set_role(session, chi, Role.DEPUTY_SECRETARY, DECEMBER, by=secretary)
        assert await lifecycle.set_role(session, chi, Role.DEPUTY_SECRETARY, DECEMBER) is None
        events = list(await session.scalars(select(MemberEvent).order_by(MemberEvent.id)))
    assert [(e.kind, e.old_value, e.new_value, e.reason) for e in events] == [
        ("moved_out", None, str(cells.b.id), None),
        ("moved_in", str(cells.a.id), None, None),
        ("removed", None, None, "Vi phạm kỷ luật"),
        ("role", "member", "deputy_secretary", None),
    ]
    assert all(e.by_member_id == people["An"] for e in events)

    sender = FakeSender()
    clock = lambda: DECEMBER + timedelta(minutes=1)  # noqa: E731
    dispatcher = Dispatcher(db, {"telegram": sender}, render=notices.render, clock=clock)
    await dispatcher.run_once()
    await dispatcher.run_once()  # nothing is sent twice
    told = {chat: text for chat, text in sender.sent}
    assert len(sender.sent) == 3 and set(told) == {"101", "103", "102"}
    assert "Chi bộ khu 2" in told["101"] and "Chi bộ khu 1" in told["101"]  # welcome, from
    assert "Vi phạm kỷ luật" in told["103"]  # the removed member hears the reason
    assert "phó bí thư" in told["102"]
    async with db.session() as session:
        rows = list(
            await session.scalars(
                select(Notification).where(Notification.kind == Kind.MEMBER_NOTICE)
            )
        )
    assert [(r.period_id, r.status) for r in rows] == [(None, NotificationStatus.SENT)] * 3


async def test_refusals_change_nothing(db: Database) -> None:
    cells = await two_cells(db)
    people = cells.people
    async with db.session() as session:
        secretary = await session.get(Member, people["An"])
        bình = await session.get(Member, people["Bình"])
        a = await session.get(Organization, cells.a.id)
        assert secretary and bình and a
        with pytest.raises(Refused) as refused:
            await lifecycle.remove(session, secretary, "x", DECEMBER, by=secretary)
        assert refused.value.why is Refusal.SELF
        with pytest.raises(Refused) as refused:  # an administrator: still the only secretary
            await lifecycle.remove(session, secretary, "x", DECEMBER)
        assert refused.value.why is Refusal.LAST_SECRETARY
        with pytest.raises(Refused) as refused:
            await lifecycle.set_role(session, secretary, Role.MEMBER, DECEMBER)
        assert refused.value.why is Refusal.LAST_SECRETARY
        with pytest.raises(Refused) as refused:
            await lifecycle.move(session, bình, a, DECEMBER)
        assert refused.value.why is Refusal.SAME_CELL
        await lifecycle.set_role(session, bình, Role.SECRETARY, DECEMBER, by=secretary)
        with pytest.raises(Refused) as refused:  # demoting oneself locks one out
            await lifecycle.set_role(session, secretary, Role.MEMBER, DECEMBER, by=secretary)
        assert refused.value.why is Refusal.SELF
        await lifecycle.set_role(session, secretary, Role.MEMBER, DECEMBER, by=bình)
        await lifecycle.remove(session, secretary, "Nghỉ hưu", DECEMBER, by=bình)
        with pytest.raises(Refused) as refused:
            await lifecycle.set_status(session, secretary, MemberStatus.EXEMPT, DECEMBER)
        assert refused.value.why is Refusal.GONE
    async with db.session() as session:
        roles = {m.full_name: (m.role, m.active) for m in await lifecycle.roster(session, a.id)}
    assert roles["Bình"] == (Role.SECRETARY, True) and "An" not in roles


async def test_a_removed_member_can_join_again_with_a_new_invite(db: Database) -> None:
    cells = await two_cells(db)
    async with db.session() as session:
        dũng = await session.get(Member, cells.people["Dũng"])
        assert dũng is not None
        await lifecycle.remove(session, dũng, "Nhầm", DECEMBER)
        code, _invite = await membership.create_invite(
            session, cells.a, Role.MEMBER, now=DECEMBER, valid_for=timedelta(days=1)
        )
    async with db.session() as session:
        joined = await membership.join(
            session,
            channel="telegram",
            external_id="103",
            display_name="Dũng",
            code=code,
            now=DECEMBER,
        )
    assert joined.status is membership.JoinStatus.JOINED and joined.member is not None
    assert joined.member.id != cells.people["Dũng"]
    async with db.session() as session:
        accounts = list(
            await session.scalars(
                select(ChatIdentity.member_id).where(ChatIdentity.external_id == "103")
            )
        )
    assert accounts == [joined.member.id]


async def test_secretary_changes_status_and_role_in_chat(runtime: Runtime) -> None:
    """/members through the handlers: status and role buttons, self refusal, forged ids."""
    world = await build_world(runtime)
    secretary, member = world.member_ids[SECRETARY_A], world.member_ids[MEMBER_A]
    other_cell = world.member_ids[MEMBER_B]
    roster = await world.say(SECRETARY_A, "/members")
    labels = [b.label for row in roster.replies[0].buttons for b in row]
    assert len(labels) == 3 and any("bí thư" in label for label in labels)

    exempt = await world.say(SECRETARY_A, data=f"mbs:{member}:exempt")
    assert exempt.notice and "báo tin" in exempt.notice
    assert "được miễn công tác" in exempt.replies[0].text
    same = await world.say(SECRETARY_A, data=f"mbs:{member}:exempt")
    assert same.notice == "Không có gì thay đổi."
    self_demote = await world.say(SECRETARY_A, data=f"mbs:{secretary}:member")
    assert "chính mình" in self_demote.replies[0].text
    self_remove = await world.say(SECRETARY_A, data=f"mba:rm:{secretary}")
    assert "chính mình" in self_remove.replies[0].text
    for forged in (f"mbs:{other_cell}:exempt", f"mbc:{other_cell}", f"mba:rm:{other_cell}"):
        refused = await world.say(SECRETARY_A, data=forged)
        assert refused.notice == "Nút này không còn hiệu lực."
    as_member = await world.say(MEMBER_A, data=f"mbs:{secretary}:member")
    assert as_member.notice and "bí thư" in as_member.notice

    # a removal needs the typed reason, then the confirmation
    await world.say(SECRETARY_A, data=f"mba:rm:{member}")
    early = await world.say(SECRETARY_A, data=f"mba:rmok:{world.member_ids[OTHER_MEMBER_A]}")
    assert early.notice == "Nút này không còn hiệu lực."  # not the member being removed
    asked = await world.say(SECRETARY_A, "Tự xin ra khỏi Đảng")
    assert "Tự xin ra khỏi Đảng" in asked.replies[0].text
    done = await world.say(SECRETARY_A, data=f"mba:rmok:{member}")
    assert done.notice and "đã được xóa" in done.notice
    gone = await world.say(MEMBER_A, "/assess")
    assert "chưa vào chi bộ" in gone.replies[0].text
    async with runtime.db.session() as session:
        row = await session.get(Member, member)
        statuses = [
            (e.kind, e.new_value, e.reason)
            for e in await session.scalars(
                select(MemberEvent).where(MemberEvent.member_id == member).order_by(MemberEvent.id)
            )
        ]
    assert row is not None and not row.active and row.left_reason == "Tự xin ra khỏi Đảng"
    assert statuses == [("status", "exempt", None), ("removed", None, "Tự xin ra khỏi Đảng")]
