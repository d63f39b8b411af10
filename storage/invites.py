"""Invites: stored by the SHA-256 of their code, redeemed atomically."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Invite, JoinAttempt


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


async def by_code(session: AsyncSession, code: str) -> Invite | None:
    return await session.scalar(select(Invite).where(Invite.code_hash == code_hash(code)))


async def take_use(session: AsyncSession, invite_id: int) -> bool:
    """Count one use unless the invite is used up; safe against concurrent joins."""
    result = await session.execute(
        update(Invite)
        .where(Invite.id == invite_id, Invite.uses < Invite.max_uses)
        .values(uses=Invite.uses + 1)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def record_failed_attempt(
    session: AsyncSession, channel: str, external_id: str, at: datetime
) -> None:
    session.add(JoinAttempt(channel=channel, external_id=external_id, at=at))
    await session.flush()


async def failed_attempts_since(
    session: AsyncSession, channel: str, external_id: str, since: datetime
) -> tuple[int, datetime | None]:
    """How many failed attempts since a moment, and the oldest of them."""
    query = select(func.count(JoinAttempt.id), func.min(JoinAttempt.at)).where(
        JoinAttempt.channel == channel,
        JoinAttempt.external_id == external_id,
        JoinAttempt.at > since,
    )
    count, oldest = (await session.execute(query)).one()
    return int(count), oldest


async def revoke_personal(session: AsyncSession, member_id: int, now: datetime) -> None:
    """A member who left: their personal invites (not yet used) no longer work."""
    await session.execute(
        update(Invite)
        .where(Invite.member_id == member_id, Invite.revoked_at.is_(None))
        .values(revoked_at=now)
    )
