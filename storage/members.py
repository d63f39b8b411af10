"""Queries on members and their chat identities."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from storage.models import ChatIdentity, Member

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
