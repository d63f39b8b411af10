"""File links: an attachment published for a channel that cannot upload it.

The HTTP server (`bot.app.web`) serves `PUBLIC_BASE_URL/files/<token>`; this
module makes the links and never sees HTTP.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.chat import Attachment
from storage import files

PATH = "/files/"  # the file route's prefix on the HTTP server
DEFAULT_TTL = timedelta(days=7)


def link(base_url: str, token: str) -> str:
    """The public URL of a published file: PUBLIC_BASE_URL + /files/ + token."""
    if not base_url:
        raise ValueError("PUBLIC_BASE_URL is not set: file links need the server's public URL")
    return base_url.rstrip("/") + PATH + token


async def share(
    session: AsyncSession,
    attachment: Attachment,
    now: datetime,
    base_url: str,
    ttl: timedelta = DEFAULT_TTL,
) -> str:
    """Publish `attachment` until `now + ttl` and return its link.

    Expired files are deleted here too: whoever adds files keeps the table small,
    so no scheduler job is needed for it.
    """
    link(base_url, "")  # no base URL: fail before anything is stored
    await files.prune(session, now)
    token = await files.publish(session, attachment.filename, attachment.content, now, ttl)
    return link(base_url, token)
