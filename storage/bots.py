"""Extra bots of the deployment, each serving a subtree of the organisation tree."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Bot, Organization


async def add(
    session: AsyncSession, channel: str, token: str, org: Organization, link: str | None = None
) -> Bot:
    bot = Bot(channel=channel, token=token, org_id=org.id, link=link or None)
    session.add(bot)
    await session.flush()
    return bot


async def every(session: AsyncSession) -> list[Bot]:
    return list(await session.scalars(select(Bot).order_by(Bot.id)))


async def serving(session: AsyncSession, org_id: int, channel: str) -> Bot | None:
    """The bot of `channel` for an organisation: its own, else its nearest ancestor's.

    None: the channel's default bot (from the settings) serves it.
    """
    bots = {b.org_id: b for b in await session.scalars(select(Bot).where(Bot.channel == channel))}
    if not bots:
        return None
    current: int | None = org_id
    seen: set[int] = set()
    while current is not None and current not in seen:
        if current in bots:
            return bots[current]
        seen.add(current)
        current = await session.scalar(
            select(Organization.parent_id).where(Organization.id == current)
        )
    return None
