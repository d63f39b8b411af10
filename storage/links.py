"""Link codes: a member's second chat account joins the same membership (`/link`)."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import LinkCode


def code_hash(code: str) -> str:
    return hashlib.sha256(("link:" + code).encode()).hexdigest()


async def create(session: AsyncSession, member_id: int, code: str, expires_at: datetime) -> None:
    """A new code for the member; their earlier codes stop working."""
    await session.execute(delete(LinkCode).where(LinkCode.member_id == member_id))
    session.add(LinkCode(code_hash=code_hash(code), member_id=member_id, expires_at=expires_at))
    await session.flush()


async def take(session: AsyncSession, code: str, now: datetime) -> int | None:
    """The member a valid code belongs to; the code is used up (deleted) either way."""
    found = await session.scalar(select(LinkCode).where(LinkCode.code_hash == code_hash(code)))
    if found is None:
        return None
    await session.delete(found)
    await session.flush()
    return found.member_id if found.expires_at > now else None
