"""Queries on members and their chat identities, and who is on the roll of a month."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    and_,
    bindparam,
    delete,
    exists,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased, joinedload

from storage.models import (
    Assessment,
    AssessmentState,
    ChatIdentity,
    Member,
    MemberEvent,
    MemberEventKind,
)

# built once: every chat turn starts with it
_BY_IDENTITY = (
    select(Member, ChatIdentity.last_seen_at, ChatIdentity.bot_id)
    .join(ChatIdentity, ChatIdentity.member_id == Member.id)
    .where(ChatIdentity.channel == bindparam("channel"))
    .where(ChatIdentity.external_id == bindparam("external_id"))
    .where(Member.active.is_(True))
    .options(joinedload(Member.org))
)


async def by_identity(session: AsyncSession, channel: str, external_id: str) -> Member | None:
    found = await identify(session, channel, external_id)
    return found.member if found is not None else None


@dataclass(frozen=True)
class Identified:
    member: Member
    last_seen_at: datetime | None  # when the account was last used
    bot_id: int | None  # the bot it writes to


async def identify(session: AsyncSession, channel: str, external_id: str) -> Identified | None:
    """The active member behind a chat account, and how they reach chibo."""
    params = {"channel": channel, "external_id": external_id}
    row = (await session.execute(_BY_IDENTITY, params)).first()
    return Identified(row[0], row[1], row[2]) if row is not None else None


SEEN_EVERY = timedelta(minutes=1)  # how stale "last used" may be; saves a write per turn


async def seen(
    session: AsyncSession,
    channel: str,
    external_id: str,
    found: Identified,
    bot: int | None,
    now: datetime,
) -> None:
    """Remember that the member just wrote from this account through `bot`
    (notifications follow both)."""
    last = found.last_seen_at
    if last is not None and now - last < SEEN_EVERY and found.bot_id == bot:
        return
    await session.execute(
        update(ChatIdentity)
        .where(ChatIdentity.channel == channel, ChatIdentity.external_id == external_id)
        .values(last_seen_at=now, bot_id=bot)
    )


async def link_identity(
    session: AsyncSession, member: Member, channel: str, external_id: str, bot: int | None = None
) -> ChatIdentity:
    identity = ChatIdentity(
        member_id=member.id, channel=channel, external_id=external_id, bot_id=bot
    )
    session.add(identity)
    await session.flush()
    return identity


async def has_identity(session: AsyncSession, member_id: int, channel: str) -> bool:
    query = select(ChatIdentity.id).where(
        ChatIdentity.member_id == member_id, ChatIdentity.channel == channel
    )
    return (await session.scalar(query)) is not None


async def in_org(session: AsyncSession, org_id: int) -> list[Member]:
    query = select(Member).where(Member.org_id == org_id, Member.active.is_(True))
    return list(await session.scalars(query.order_by(Member.full_name, Member.id)))


async def secretaries_of(session: AsyncSession, org_id: int) -> list[Member]:
    """The active secretary and deputies of a cell."""
    query = select(Member).where(
        Member.org_id == org_id,
        Member.active.is_(True),
        Member.role.in_(["secretary", "deputy_secretary"]),
    )
    return list(await session.scalars(query))


# --- who was on the roll of a month ---------------------------------------------------


Moment = ColumnElement[datetime] | InstrumentedAttribute[datetime] | datetime


def on_roll(
    period_id: ColumnElement[int] | InstrumentedAttribute[int] | int, deadline_at: Moment
) -> ColumnElement[bool]:
    """The one definition of who is on the roll of a month of their cell (to be combined
    with `Member.org_id == cell`): a member who had joined before the month's deadline and
    had not left by then, or who submitted for that month.

    Past months therefore never change when a member is removed, moved or joins later:
    the old row stays in its cell with `left_at`, and only rows that were there count.
    """
    if isinstance(deadline_at, datetime):
        deadline_at = literal(deadline_at, Member.left_at.type)
    own = aliased(Assessment)  # the outer query may join Assessment itself
    submitted = (
        exists()
        .where(
            own.member_id == Member.id,
            own.period_id == period_id,
            own.state == AssessmentState.SUBMITTED,
        )
        .correlate_except(own)
    )
    stayed = or_(Member.active.is_(True), Member.left_at >= deadline_at)
    joined = or_(Member.joined_at.is_(None), Member.joined_at < deadline_at)
    return or_(and_(stayed, joined), submitted)


def status_at(deadline_at: Moment) -> ColumnElement[str]:
    """The member's status for a month: a month whose deadline passed before a status
    change keeps the status the member had then (the change's old value)."""
    if isinstance(deadline_at, datetime):
        deadline_at = literal(deadline_at, Member.left_at.type)
    later = (
        select(MemberEvent.old_value)
        .where(
            MemberEvent.member_id == Member.id,
            MemberEvent.kind == MemberEventKind.STATUS,
            MemberEvent.at > deadline_at,
        )
        .order_by(MemberEvent.at, MemberEvent.id)
        .limit(1)
        .correlate_except(MemberEvent)
        .scalar_subquery()
    )
    return func.coalesce(later, Member.status)


async def history_of(session: AsyncSession, member: Member, limit: int = 50) -> list[Member]:
    """The person's rows, newest first: this one, then the cells they moved from."""
    rows = [member]
    seen = {member.id}
    while rows[-1].moved_from_id is not None and len(rows) < limit:
        previous = await session.get(Member, rows[-1].moved_from_id)
        if previous is None or previous.id in seen:
            break
        rows.append(previous)
        seen.add(previous.id)
    return rows


async def rows_of_person(session: AsyncSession, member: Member, limit: int = 50) -> list[Member]:
    """Every row of the person: the cells they moved from and the cells they moved to."""
    rows = await history_of(session, member, limit)
    newest = member
    while len(rows) < limit:
        later = await session.scalar(select(Member).where(Member.moved_from_id == newest.id))
        if later is None or later in rows:
            break
        rows.append(later)
        newest = later
    return rows


async def release_identity(session: AsyncSession, channel: str, external_id: str) -> None:
    """Free a chat account still linked to a member who left (to join or link again)."""
    gone = select(Member.id).where(Member.active.is_(False))
    await session.execute(
        delete(ChatIdentity).where(
            ChatIdentity.channel == channel,
            ChatIdentity.external_id == external_id,
            ChatIdentity.member_id.in_(gone),
        )
    )


async def secretary_count(session: AsyncSession, org_id: int, roles: frozenset[str]) -> int:
    query = select(func.count(Member.id)).where(
        Member.org_id == org_id, Member.active.is_(True), Member.role.in_(list(roles))
    )
    return int(await session.scalar(query) or 0)
