"""Joining by invite on both backends: success, every refusal, throttling, imports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bot.services import membership
from bot.services.membership import JoinPolicy, JoinStatus
from bot.services.setup import create_cell, import_members
from storage import orgs
from storage.db import Database
from storage.models import ChatIdentity, Invite, JoinAttempt, Member, OrgKind, Role

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


async def new_cell(db: Database, name: str = "Chi bộ khu Biểu Nghi") -> int:
    async with db.session() as session:
        committee = await orgs.create(session, "Đảng bộ phường Đông Mai", OrgKind.COMMITTEE)
        cell = await create_cell(session, name, committee, timezone="Asia/Ho_Chi_Minh", locale="vi")
        return cell.id


async def invite_code(db: Database, cell_id: int, role: Role = Role.MEMBER, **kw: object) -> str:
    async with db.session() as session:
        cell = await orgs.find_by_name(session, "Chi bộ khu Biểu Nghi", OrgKind.CELL)
        assert cell is not None and cell.id == cell_id
        options = {"valid_for": timedelta(days=7), "max_uses": 1, **kw}
        code, _ = await membership.create_invite(session, cell, role, now=NOW, **options)  # type: ignore[arg-type]
        return code


async def join(db: Database, code: str, user: str = "1001", at: datetime = NOW, **kw: object):  # type: ignore[no-untyped-def]
    async with db.session() as session:
        return await membership.join(
            session,
            channel="telegram",
            external_id=user,
            display_name="Trần Thị Bình",
            code=code,
            now=at,
            **kw,  # type: ignore[arg-type]
        )


async def count(db: Database, model: type) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def test_codes_are_long_random_and_link_safe() -> None:
    codes = {membership.new_invite_code() for _ in range(1000)}
    assert len(codes) == 1000
    for code in codes:
        assert len(code) >= 16  # 12 random bytes = 96 bits
        assert membership.looks_like_invite_code(code)


async def test_secretary_invite_registers_the_role(db: Database) -> None:
    cell_id = await new_cell(db)
    code = await invite_code(db, cell_id, Role.SECRETARY)
    result = await join(db, code)
    assert result.status is JoinStatus.JOINED
    assert result.member is not None
    assert result.member.role == Role.SECRETARY and result.member.org_id == cell_id
    assert await count(db, ChatIdentity) == 1


async def test_used_invite_is_refused_and_changes_nothing(db: Database) -> None:
    code = await invite_code(db, await new_cell(db))
    assert (await join(db, code, user="1001")).status is JoinStatus.JOINED
    assert (await join(db, code, user="1002")).status is JoinStatus.USED_UP
    assert await count(db, Member) == 1


async def test_expired_invite_is_refused(db: Database) -> None:
    code = await invite_code(db, await new_cell(db))
    result = await join(db, code, at=NOW + timedelta(days=7, seconds=1))
    assert result.status is JoinStatus.EXPIRED
    assert await count(db, Member) == 0


async def test_second_join_keeps_the_first_cell_and_the_invite(db: Database) -> None:
    cell_id = await new_cell(db)
    first, second = await invite_code(db, cell_id), await invite_code(db, cell_id)
    await join(db, first)
    result = await join(db, second)
    assert result.status is JoinStatus.ALREADY_MEMBER
    async with db.session() as session:
        uses = list(await session.scalars(select(Invite.uses).order_by(Invite.id)))
    assert uses == [1, 0]
    assert await count(db, Member) == 1


async def test_wrong_codes_are_throttled_per_chat(db: Database) -> None:
    code = await invite_code(db, await new_cell(db))
    policy = JoinPolicy(attempts=3, window=timedelta(minutes=15))
    for minute in range(3):
        result = await join(
            db, "wrong-code-guess-" + str(minute), at=NOW + timedelta(minutes=minute), policy=policy
        )
        assert result.status is JoinStatus.INVALID
    blocked = await join(db, code, at=NOW + timedelta(minutes=5), policy=policy)
    assert blocked.status is JoinStatus.THROTTLED
    assert blocked.retry_at == NOW + timedelta(minutes=15)
    other_chat = await join(db, code, user="2002", at=NOW + timedelta(minutes=5), policy=policy)
    assert other_chat.status is JoinStatus.JOINED
    assert await count(db, JoinAttempt) == 3


async def test_throttle_lifts_after_the_window(db: Database) -> None:
    code = await invite_code(db, await new_cell(db))
    policy = JoinPolicy(attempts=2, window=timedelta(minutes=10))
    for n in range(2):
        await join(db, f"bad-guess-number-{n}", policy=policy)
    later = await join(db, code, at=NOW + timedelta(minutes=11), policy=policy)
    assert later.status is JoinStatus.JOINED


async def test_imported_members_join_with_personal_invites(db: Database) -> None:
    cell_id = await new_cell(db)
    csv_text = "name,status,role\nTrần Thị Bình,dự bị,\nNguyễn Văn An,,bí thư\n"
    async with db.session() as session:
        cell = await orgs.find_by_name(session, "Chi bộ khu Biểu Nghi", OrgKind.CELL)
        assert cell is not None
        imported = await import_members(session, cell, csv_text, now=NOW, valid_days=14)
    assert [i.member.full_name for i in imported] == ["Trần Thị Bình", "Nguyễn Văn An"]
    result = await join(db, imported[1].code, user="3003")
    assert result.status is JoinStatus.JOINED and result.member is not None
    assert result.member.id == imported[1].member.id
    assert result.member.role == Role.SECRETARY
    assert await count(db, Member) == 2  # bound to the imported row, not a new one
    again = await join(db, imported[1].code, user="3004")
    assert again.status is JoinStatus.USED_UP
    assert cell_id == imported[0].member.org_id
