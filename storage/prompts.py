"""Per-chat state of channels without buttons: the options shown, the messages answered."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import dialect_insert
from storage.models import ChatPrompt, ProcessedMessage


async def shown(session: AsyncSession, channel: str, chat_id: str) -> dict[str, Any] | None:
    """The options the chat was last shown (as stored by `show`), if any."""
    query = select(ChatPrompt.options).where(
        ChatPrompt.channel == channel, ChatPrompt.chat_id == chat_id
    )
    options: dict[str, Any] | None = await session.scalar(query)
    return options


async def show(
    session: AsyncSession, channel: str, chat_id: str, options: dict[str, Any] | None, now: datetime
) -> dict[str, Any] | None:
    """Replace what the chat was shown (None forgets it: the latest message had no
    options); what it was shown before, read by the same statement that removes it."""
    earlier: dict[str, Any] | None = await session.scalar(
        delete(ChatPrompt)
        .where(ChatPrompt.channel == channel, ChatPrompt.chat_id == chat_id)
        .returning(ChatPrompt.options)
    )
    if options is not None:
        session.add(ChatPrompt(channel=channel, chat_id=chat_id, options=options, shown_at=now))
        await session.flush()
    return earlier


async def first_time(session: AsyncSession, channel: str, message_id: str, now: datetime) -> bool:
    """Record a message as answered; False if it was already (a replay)."""
    statement = (
        dialect_insert(session, ProcessedMessage)
        .values(channel=channel, message_id=message_id, at=now)
        .on_conflict_do_nothing(index_elements=["channel", "message_id"])
    )
    result = await session.execute(statement)
    return bool(result.rowcount)  # type: ignore[attr-defined]


REPLAY_WINDOW = timedelta(days=30)  # a message older than this is not expected again


async def forget_processed(session: AsyncSession, before: datetime) -> int:
    """Drop replay guards older than any replay."""
    result = await session.execute(delete(ProcessedMessage).where(ProcessedMessage.at < before))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
