"""Shared files: charts and workbooks behind unguessable, expiring tokens.

A channel that cannot upload (Zalo sends a photo only by URL) publishes the file
here and sends a link; the HTTP server's file route fetches it by token. The token
is the only key: whoever holds the link may read the file until it expires.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from pathlib import PurePosixPath

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import SharedFile

TOKEN_BYTES = 24  # 192 random bits: 32 URL-safe characters, not guessable
MAX_FILENAME = 200  # SharedFile.filename's column length


async def publish(
    session: AsyncSession, filename: str, content: bytes, now: datetime, ttl: timedelta
) -> str:
    """Store a file readable until `now + ttl`; return its token."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(
        SharedFile(
            token=token,
            filename=_fitting(filename),
            content=content,
            expires_at=now + ttl,
            created_at=now,
        )
    )
    await session.flush()
    return token


async def fetch(session: AsyncSession, token: str, now: datetime) -> SharedFile | None:
    """The file behind `token`, or None when there is none or it has expired."""
    shared = await session.get(SharedFile, token)
    if shared is None or shared.expires_at <= now:
        return None
    return shared


async def prune(session: AsyncSession, now: datetime) -> int:
    """Delete the expired files; return how many."""
    result = await session.execute(delete(SharedFile).where(SharedFile.expires_at <= now))
    return int(result.rowcount)  # type: ignore[attr-defined]


def _fitting(filename: str) -> str:
    """`filename` within the column, its extension kept (it tells the content type)."""
    if len(filename) <= MAX_FILENAME:
        return filename
    suffix = PurePosixPath(filename).suffix
    if len(suffix) > MAX_FILENAME // 4:  # not an extension worth keeping
        suffix = ""
    return filename[: MAX_FILENAME - len(suffix)] + suffix
