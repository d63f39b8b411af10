"""Where a new member of an organisation finds chibo: the bot of each app serving it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.config import Settings
from storage import bots as bot_store


@dataclass(frozen=True)
class Entrances:
    telegram_username: str | None  # the Telegram bot's @username, when known
    zalo: bool  # a Zalo bot serves the organisation
    zalo_link: str | None  # its link, when known

    def telegram_link(self, code: str) -> str | None:
        """The deep link that opens the bot with `/start CODE`."""
        if not self.telegram_username:
            return None
        return f"https://t.me/{self.telegram_username}?start={code}"


async def of(
    session: AsyncSession, settings: Settings, org_id: int, default_username: str | None
) -> Entrances:
    """The extra bots serving `org_id` (its own or an ancestor's), else the defaults."""
    telegram = await bot_store.serving(session, org_id, "telegram")
    zalo = await bot_store.serving(session, org_id, "zalo")
    return Entrances(
        telegram_username=telegram.username if telegram is not None else default_username,
        zalo=zalo is not None or bool(settings.zalo_bot_token),
        zalo_link=zalo.link if zalo is not None else (settings.zalo_bot_link or None),
    )
