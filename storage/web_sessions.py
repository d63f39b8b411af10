"""One-time sign-in links and browser sessions of the web view; tokens are stored hashed."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import WebSession, WebSignIn

KEEP_USED_LINKS = timedelta(days=1)  # longer than any throttle window that counts them


def token_hash(kind: str, token: str) -> str:
    """SHA-256 of a token, salted by its kind so that a link never works as a cookie."""
    return hashlib.sha256(f"web-{kind}:{token}".encode()).hexdigest()


async def add_sign_in(
    session: AsyncSession, member_id: int, token: str, now: datetime, expires_at: datetime
) -> None:
    """Store a new link (hashed); links older than a day are forgotten here."""
    await session.execute(delete(WebSignIn).where(WebSignIn.created_at < now - KEEP_USED_LINKS))
    session.add(
        WebSignIn(
            token_hash=token_hash("link", token),
            member_id=member_id,
            created_at=now,
            expires_at=expires_at,
        )
    )
    await session.flush()


async def sign_ins_since(
    session: AsyncSession, member_id: int, since: datetime
) -> tuple[int, datetime | None]:
    """How many links the member was given since `since`, and when the oldest of them."""
    query = select(func.count(), func.min(WebSignIn.created_at)).where(
        WebSignIn.member_id == member_id, WebSignIn.created_at > since
    )
    count, oldest = (await session.execute(query)).one()
    return int(count), oldest


async def take_sign_in(session: AsyncSession, token: str, now: datetime) -> int | None:
    """The member of an unused, unexpired link; the link is used up by this one UPDATE, so
    two browsers (or two processes) racing with the same link cannot both get it."""
    statement = (
        update(WebSignIn)
        .where(
            WebSignIn.token_hash == token_hash("link", token),
            WebSignIn.used_at.is_(None),
            WebSignIn.expires_at > now,
        )
        .values(used_at=now)
        .returning(WebSignIn.member_id)
    )
    return await session.scalar(statement)


async def open_session(
    session: AsyncSession,
    member_id: int,
    token: str,
    csrf: str,
    now: datetime,
    expires_at: datetime,
) -> None:
    """Store a browser session (hashed token); expired sessions are deleted here."""
    await session.execute(delete(WebSession).where(WebSession.expires_at <= now))
    session.add(
        WebSession(
            token_hash=token_hash("session", token),
            member_id=member_id,
            csrf=csrf,
            created_at=now,
            expires_at=expires_at,
        )
    )
    await session.flush()


async def session_of(session: AsyncSession, token: str, now: datetime) -> WebSession | None:
    """The unexpired session a cookie's token names."""
    query = select(WebSession).where(
        WebSession.token_hash == token_hash("session", token), WebSession.expires_at > now
    )
    return await session.scalar(query)


async def close_session(session: AsyncSession, token: str) -> None:
    await session.execute(
        delete(WebSession).where(WebSession.token_hash == token_hash("session", token))
    )
